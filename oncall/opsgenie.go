package oncall

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/portalbot/portalbot/commands"
)

// opsgenie reads Opsgenie's API the way Backstage's Opsgenie plugin does
// for an opsgenie.com/team annotation: the team's schedules are those of
// GET /v2/schedules whose ownerTeam is the team, and GET
// /v2/schedules/{id}/on-calls names who is on call now in each.
// Authorization is "GenieKey …".
type opsgenie struct{ api }

// maxSchedules bounds the schedules asked about for one team.
const maxSchedules = 3

type ogParticipant struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Type is user, team, escalation or schedule.
	Type string `json:"type"`
	// OnCallParticipants are an escalation's or team's own participants.
	OnCallParticipants []ogParticipant `json:"onCallParticipants"`
}

func (o opsgenie) byTeam(ctx context.Context, team string) (OnCallNow, error) {
	var list struct {
		Data []struct {
			ID        string `json:"id"`
			Name      string `json:"name"`
			Enabled   bool   `json:"enabled"`
			OwnerTeam *struct {
				Name string `json:"name"`
			} `json:"ownerTeam"`
		} `json:"data"`
	}
	if err := o.get(ctx, "/v2/schedules", &list); err != nil {
		return OnCallNow{}, fmt.Errorf("opsgenie schedules: %w", err)
	}
	var names []string
	var people []commands.OnCallPerson
	for _, s := range list.Data {
		if s.OwnerTeam == nil || !strings.EqualFold(s.OwnerTeam.Name, team) || !s.Enabled {
			continue
		}
		if len(names) == maxSchedules {
			break
		}
		var oc struct {
			Data struct {
				OnCallParticipants []ogParticipant `json:"onCallParticipants"`
			} `json:"data"`
		}
		if err := o.get(ctx, "/v2/schedules/"+url.PathEscape(s.ID)+"/on-calls", &oc); err != nil {
			return OnCallNow{}, fmt.Errorf("opsgenie on-calls of schedule %s: %w", s.ID, err)
		}
		names = append(names, s.Name)
		people = appendUsers(people, oc.Data.OnCallParticipants, 0)
	}
	if len(names) == 0 {
		return OnCallNow{}, fmt.Errorf("opsgenie team %s: %w", team, commands.Userf("Opsgenie has no enabled schedule owned by team %s", team))
	}
	rot := "Opsgenie schedule " + names[0]
	if len(names) > 1 {
		rot = "Opsgenie schedules " + strings.Join(names, ", ")
	}
	return OnCallNow{Rotation: rot, People: people}, nil
}

// appendUsers adds the users among ps, and those of the escalations and
// teams among them, to the end of out. Opsgenie names users by their
// username, which is their email address.
func appendUsers(out []commands.OnCallPerson, ps []ogParticipant, depth int) []commands.OnCallPerson {
	for _, p := range ps {
		switch {
		case p.Type == "user" && p.Name != "":
			person := commands.OnCallPerson{Name: p.Name}
			if strings.Contains(p.Name, "@") {
				person.Email = p.Name
			}
			out = append(out, person)
		case depth < 2:
			out = appendUsers(out, p.OnCallParticipants, depth+1)
		}
	}
	return out
}
