package scaffolder

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// repoURL is the value of Backstage's RepoUrlPicker field, written
// "host?owner=o&repo=r" (plus organization, workspace and project for
// Azure DevOps and Bitbucket).
type repoURL struct {
	Host         string
	Owner        string
	Repo         string
	Organization string
	Workspace    string
	Project      string
}

// repoNameRE is the set of characters GitHub, GitLab and Bitbucket accept in
// repository and owner names; "." and ".." are refused separately.
var repoNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$`)

// parseRepoURL parses s in RepoUrlPicker's "host?owner=…&repo=…" form. It
// fails when the host or repo is missing or a part holds characters that
// no Git host allows (slashes, "..", spaces), so a value can be used safely
// as a path below a publish directory.
func parseRepoURL(s string) (repoURL, error) {
	host, query, ok := strings.Cut(strings.TrimSpace(s), "?")
	if !ok || host == "" {
		return repoURL{}, fmt.Errorf("repo url %q: want host?owner=…&repo=…", s)
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return repoURL{}, fmt.Errorf("repo url %q: %v", s, err)
	}
	r := repoURL{
		Host: host, Owner: q.Get("owner"), Repo: q.Get("repo"),
		Organization: q.Get("organization"), Workspace: q.Get("workspace"), Project: q.Get("project"),
	}
	if strings.ContainsAny(host, "/\\ @") {
		return repoURL{}, fmt.Errorf("repo url %q: bad host %q", s, host)
	}
	if r.Repo == "" {
		return repoURL{}, fmt.Errorf("repo url %q: missing repo", s)
	}
	for _, part := range []string{r.Owner, r.Repo, r.Organization, r.Workspace, r.Project} {
		if part != "" && (!repoNameRE.MatchString(part) || part == "." || part == ".." || strings.Contains(part, "..")) {
			return repoURL{}, fmt.Errorf("repo url %q: %q is not a valid name (letters, digits, '.', '-', '_')", s, part)
		}
	}
	return r, nil
}

// String returns the RepoUrlPicker form.
func (r repoURL) String() string {
	q := url.Values{}
	for k, v := range map[string]string{"owner": r.Owner, "repo": r.Repo, "organization": r.Organization, "workspace": r.Workspace, "project": r.Project} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return r.Host + "?" + q.Encode()
}

// Map returns the parts as the parseRepoUrl filter does.
func (r repoURL) Map() map[string]any {
	m := map[string]any{"host": r.Host, "repo": r.Repo}
	for k, v := range map[string]string{"owner": r.Owner, "organization": r.Organization, "workspace": r.Workspace, "project": r.Project} {
		if v != "" {
			m[k] = v
		}
	}
	return m
}
