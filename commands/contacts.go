package commands

import (
	"iter"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/portalbot/portalbot/catalog"
)

// Chat channel annotations, looked up on the owning Group (then on the
// entity itself). No Backstage plugin standardises one; portalbot's own
// spellings come first (the drift reports read them too, see
// bot.ReportsConfig.TeamDigests), then the ones seen in public catalogs.
var (
	slackChannelAnnotations   = []string{"portalbot.io/slack-channel", "slack.com/channel", "slack.com/channel-id"}
	discordChannelAnnotations = []string{"portalbot.io/discord-channel", "discord.com/channel"}
)

// profile returns a Group's or User's spec.profile display name and email
// (Backstage's GroupSpec.profile and UserSpec.profile), "" when unset.
func profile(e *catalog.Entity) (displayName, email string) {
	p, _ := e.Spec["profile"].(map[string]any)
	displayName, _ = p["displayName"].(string)
	email, _ = p["email"].(string)
	return strings.TrimSpace(displayName), strings.TrimSpace(email)
}

// displayName is how a person or team is called in answers: the profile's
// display name, else the title, else the name.
func displayName(e *catalog.Entity) string {
	if n, _ := profile(e); n != "" {
		return n
	}
	return describe(e)
}

// firstAnnotation returns the first non-empty value of keys on e.
func firstAnnotation(e *catalog.Entity, keys []string) string {
	if e == nil {
		return ""
	}
	for _, k := range keys {
		if v := strings.TrimSpace(e.Metadata.Annotations[k]); v != "" {
			return v
		}
	}
	return ""
}

// chatFields returns the Slack and Discord channels named on the first of
// ents that names one.
func chatFields(ents ...*catalog.Entity) []Field {
	var out []Field
	for _, e := range ents {
		if v := firstAnnotation(e, slackChannelAnnotations); v != "" {
			out = append(out, Field{Name: "Slack", Value: channelName(v)})
			break
		}
	}
	for _, e := range ents {
		if v := firstAnnotation(e, discordChannelAnnotations); v != "" {
			out = append(out, Field{Name: "Discord", Value: channelName(v)})
			break
		}
	}
	return out
}

// channelName writes a channel as people type it, with one leading '#'
// unless it is a platform id.
func channelName(v string) string {
	v = strings.TrimSpace(v)
	if isChannelID(v) {
		return v
	}
	return "#" + strings.TrimLeft(v, "#")
}

// isChannelID reports whether v looks like a Slack channel id (C…, G…) or
// a Discord snowflake rather than a name.
func isChannelID(v string) bool {
	if v == "" {
		return false
	}
	allDigits := true
	for _, r := range v {
		if r < '0' || r > '9' {
			allDigits = false
		}
	}
	if allDigits && len(v) >= 15 {
		return true
	}
	if (v[0] == 'C' || v[0] == 'G') && len(v) >= 9 && strings.ToUpper(v) == v {
		return !strings.ContainsAny(v, "-_ #")
	}
	return false
}

// safeURL returns s when it is an absolute http(s) URL, for links taken
// from descriptors: a hostile file must not turn a link into javascript:
// or a relative path on the portal.
func safeURL(s string) (string, bool) {
	s = strings.TrimSpace(s)
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", false
	}
	return u.String(), true
}

// sourceURL returns the backstage.io/source-location annotation as a link.
// Its value is a location reference, "url:https://…" (Backstage's
// well-known annotations); other types name no browsable place.
func sourceURL(e *catalog.Entity) (string, bool) {
	v := e.Metadata.Annotations[catalog.AnnotationSourceLocation]
	t, target, ok := strings.Cut(v, ":")
	if !ok || t != "url" {
		return "", false
	}
	return safeURL(target)
}

// memberNames lists up to n member names and how many more there are.
func memberNames(members []*catalog.Entity, total, n int) string {
	var names []string
	for _, m := range members {
		if len(names) == n {
			break
		}
		names = append(names, displayName(m))
	}
	s := strings.Join(names, ", ")
	if more := total - len(names); more > 0 {
		s += ", +" + strconv.Itoa(more) + " more"
	}
	return s
}

// relTargets returns the targets of rels of type typ, in order.
func relTargets(rels []catalog.Relation, typ string) []catalog.Ref {
	return slices.Collect(targets(rels, typ))
}

// targets yields the targets of rels of type typ, in order; a target whose
// ref does not parse is left out.
func targets(rels []catalog.Relation, typ string) iter.Seq[catalog.Ref] {
	return func(yield func(catalog.Ref) bool) {
		for _, r := range rels {
			if r.Type != typ {
				continue
			}
			t := r.Target
			if t.IsZero() {
				var err error
				if t, err = catalog.ParseRef(r.TargetRef, "", ""); err != nil {
					continue
				}
			}
			if !yield(t) {
				return
			}
		}
	}
}
