package oncall

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"time"

	"github.com/portalbot/portalbot/commands"
)

// pagerDuty reads PagerDuty's REST API v2 the way Backstage's PagerDuty
// plugin does: the service (GET /services/{id}, or GET /services?query=
// with its integrations for an integration key) names an escalation
// policy, and GET /oncalls?escalation_policy_ids[]= lists who is on call
// now at each level. Authorization is "Token token=…".
type pagerDuty struct{ api }

// pdVersion is the Accept header selecting REST API v2.
const pdVersion = "application/vnd.pagerduty+json;version=2"

// pdRef is PagerDuty's reference object (user_reference, schedule_reference…).
type pdRef struct {
	ID      string `json:"id"`
	Type    string `json:"type"`
	Summary string `json:"summary"`
	HTMLURL string `json:"html_url"`
}

type pdService struct {
	ID               string `json:"id"`
	Name             string `json:"name"`
	HTMLURL          string `json:"html_url"`
	EscalationPolicy pdRef  `json:"escalation_policy"`
	Integrations     []struct {
		IntegrationKey string `json:"integration_key"`
	} `json:"integrations"`
}

func (p pagerDuty) byService(ctx context.Context, id string) (OnCallNow, error) {
	var out struct {
		Service pdService `json:"service"`
	}
	err := p.get(ctx, "/services/"+url.PathEscape(id)+"?time_zone=UTC", &out)
	if errors.Is(err, errNotFound) {
		return OnCallNow{}, fmt.Errorf("pagerduty service %s: %w", id, commands.Userf("PagerDuty has no service %s", id))
	}
	if err != nil {
		return OnCallNow{}, fmt.Errorf("pagerduty service %s: %w", id, err)
	}
	return p.onCalls(ctx, out.Service)
}

// byIntegrationKey finds the service holding the integration key. The key
// triggers incidents, so it appears in no message or error.
func (p pagerDuty) byIntegrationKey(ctx context.Context, key string) (OnCallNow, error) {
	var out struct {
		Services []pdService `json:"services"`
	}
	q := url.Values{"time_zone": {"UTC"}, "include[]": {"integrations"}, "query": {key}}
	if err := p.get(ctx, "/services?"+q.Encode(), &out); err != nil {
		return OnCallNow{}, fmt.Errorf("pagerduty service by integration key: %w", err)
	}
	for _, s := range out.Services {
		for _, in := range s.Integrations {
			if in.IntegrationKey == key {
				return p.onCalls(ctx, s)
			}
		}
	}
	return OnCallNow{}, fmt.Errorf("pagerduty service by integration key: %w",
		commands.Userf("PagerDuty has no service with the integration key this entity names"))
}

func (p pagerDuty) onCalls(ctx context.Context, s pdService) (OnCallNow, error) {
	ep := s.EscalationPolicy
	if ep.ID == "" {
		return OnCallNow{}, fmt.Errorf("pagerduty service %s: %w", s.ID, commands.Userf("PagerDuty service %s has no escalation policy", s.Name))
	}
	var out struct {
		OnCalls []struct {
			User struct {
				pdRef
				Name  string `json:"name"`
				Email string `json:"email"`
			} `json:"user"`
			Schedule        *pdRef     `json:"schedule"`
			EscalationLevel int        `json:"escalation_level"`
			End             *time.Time `json:"end"`
		} `json:"oncalls"`
	}
	// PagerDuty pages by 25 by default; 100 is its maximum and more
	// on-calls than that for one policy are not worth listing in chat.
	q := url.Values{"time_zone": {"UTC"}, "include[]": {"users"}, "escalation_policy_ids[]": {ep.ID}, "limit": {"100"}}
	if err := p.get(ctx, "/oncalls?"+q.Encode(), &out); err != nil {
		return OnCallNow{}, fmt.Errorf("pagerduty on-calls for escalation policy %s: %w", ep.ID, err)
	}
	name := ep.Summary
	if name == "" {
		name = ep.ID
	}
	now := OnCallNow{Rotation: "PagerDuty escalation policy " + name, URL: ep.HTMLURL}
	for _, o := range out.OnCalls {
		person := commands.OnCallPerson{Name: o.User.Name, Email: o.User.Email, URL: o.User.HTMLURL, Level: o.EscalationLevel}
		if person.Name == "" {
			person.Name = o.User.Summary // a user_reference when include[]=users was ignored
		}
		if person.Name == "" {
			continue
		}
		if o.End != nil {
			person.Until = *o.End
		}
		now.People = append(now.People, person)
	}
	sort.SliceStable(now.People, func(i, j int) bool { return now.People[i].Level < now.People[j].Level })
	return now, nil
}
