package drift

import (
	"bufio"
	"io"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
)

// codeOwners is a parsed CODEOWNERS file. (Interim, until catalog's
// parser lands.)
type codeOwners struct {
	rules []coRule
}

type coRule struct {
	pattern string
	owners  []string
}

func parseCodeOwners(r io.Reader) (*codeOwners, error) {
	co := &codeOwners{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		co.rules = append(co.rules, coRule{pattern: f[0], owners: f[1:]})
	}
	return co, sc.Err()
}

// Owners returns the owners of the last rule matching path.
func (c *codeOwners) Owners(path string) []string {
	for i := len(c.rules) - 1; i >= 0; i-- {
		if matchCO(c.rules[i].pattern, path) {
			return c.rules[i].owners
		}
	}
	return nil
}

func matchCO(pattern, path string) bool {
	anchored := strings.HasPrefix(pattern, "/") || strings.Contains(strings.TrimSuffix(pattern, "/"), "/")
	p := strings.TrimPrefix(pattern, "/")
	if strings.HasSuffix(p, "/") {
		p += "**"
	}
	if !anchored {
		p = "**/" + p
	}
	if ok, _ := doublestar.Match(p, path); ok {
		return true
	}
	ok, _ := doublestar.Match(p+"/**", path)
	return ok
}
