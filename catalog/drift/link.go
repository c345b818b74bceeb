package drift

import (
	"fmt"
	"net/url"
	"strings"
)

// FileURL returns a web link to path at ref (a branch or commit; "" means
// HEAD) in the Git repository repo, as configured for a source: an
// http(s) URL, ssh://host/owner/repo or scp-style git@host:owner/repo. It
// returns "" for local paths and file:// repositories, which have no web
// view. Credentials in repo are never copied into the link.
//
// GitLab hosts get /-/blob/, Bitbucket Cloud /src/, and every other host
// GitHub's /blob/ (GitHub Enterprise, Gitea and Forgejo accept it).
func FileURL(repo, ref, path string, line int) string {
	host, project := webRepo(repo)
	if host == "" || project == "" {
		return ""
	}
	if ref == "" {
		ref = "HEAD"
	}
	p := strings.TrimPrefix(path, "/")
	var u string
	switch {
	case strings.Contains(host, "gitlab"):
		u = fmt.Sprintf("https://%s/%s/-/blob/%s/%s", host, project, ref, p)
		if line > 0 {
			u += fmt.Sprintf("#L%d", line)
		}
	case host == "bitbucket.org":
		u = fmt.Sprintf("https://%s/%s/src/%s/%s", host, project, ref, p)
		if line > 0 {
			u += fmt.Sprintf("#lines-%d", line)
		}
	default:
		u = fmt.Sprintf("https://%s/%s/blob/%s/%s", host, project, ref, p)
		if line > 0 {
			u += fmt.Sprintf("#L%d", line)
		}
	}
	return u
}

// webRepo returns the host and the owner/repo path of a remote repository
// URL, without ".git", user info or port, or "" when repo is not remote.
func webRepo(repo string) (host, project string) {
	repo = strings.TrimSpace(repo)
	switch {
	case strings.HasPrefix(repo, "https://"), strings.HasPrefix(repo, "http://"), strings.HasPrefix(repo, "ssh://"), strings.HasPrefix(repo, "git://"):
		u, err := url.Parse(repo)
		if err != nil {
			return "", ""
		}
		host, project = u.Hostname(), u.Path
	case !strings.Contains(repo, "://") && strings.Contains(repo, ":") && !strings.HasPrefix(repo, "/") && !strings.HasPrefix(repo, "."):
		// scp-style: [user@]host:owner/repo.git
		hostPart, p, _ := strings.Cut(repo, ":")
		if len(hostPart) == 1 {
			return "", "" // a Windows drive letter
		}
		if i := strings.LastIndexByte(hostPart, '@'); i >= 0 {
			hostPart = hostPart[i+1:]
		}
		host, project = hostPart, p
	default:
		return "", ""
	}
	project = strings.TrimSuffix(strings.Trim(project, "/"), ".git")
	if host == "" || project == "" || strings.ContainsAny(host, " /\\") {
		return "", ""
	}
	return strings.ToLower(host), project
}
