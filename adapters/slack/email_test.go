package slack

import (
	"context"
	"strconv"
	"testing"
	"time"

	slackgo "github.com/slack-go/slack"
)

// usersInfoAPI answers users.info with "<id>@example.com" and counts calls.
type usersInfoAPI struct {
	WebAPI // nil: only users.info is called
	calls  int
}

func (f *usersInfoAPI) GetUserInfoContext(_ context.Context, user string, _ ...slackgo.GetUserInfoOption) (*slackgo.User, error) {
	f.calls++
	return &slackgo.User{ID: user, Profile: slackgo.UserProfile{Email: user + "@example.com"}}, nil
}

// TestEmailCacheBounded fails before the fix: the cache kept an entry for
// every user who ever asked, expired or not, so its size grew with the
// workspace (and with made-up user ids in signed requests) without a bound.
func TestEmailCacheBounded(t *testing.T) {
	const bound = 10000 // maxEmails
	now := time.Unix(1_700_000_000, 0)
	api := &usersInfoAPI{}
	c := &emailCache{api: api, now: func() time.Time { return now }, m: map[string]emailEntry{}}
	ctx := context.Background()
	for i := range bound + 500 {
		u := "U" + strconv.Itoa(i)
		if got := c.lookup(ctx, u); got != u+"@example.com" {
			t.Fatalf("lookup(%s) = %q, want %s@example.com", u, got, u)
		}
	}
	if n := len(c.m); n > bound {
		t.Errorf("email cache holds %d entries after %d users, want at most %d", n, bound+500, bound)
	}
	// A user asked again within the TTL is answered from the cache.
	last := "U" + strconv.Itoa(bound+499)
	calls := api.calls
	if got := c.lookup(ctx, last); got != last+"@example.com" || api.calls != calls {
		t.Errorf("lookup(%s) again = %q with %d more users.info calls, want the cached email and none", last, got, api.calls-calls)
	}
	// After the TTL it is looked up again.
	now = now.Add(emailTTL + time.Second)
	c.lookup(ctx, last)
	if api.calls != calls+1 {
		t.Errorf("lookup(%s) after the TTL made %d users.info calls, want 1", last, api.calls-calls)
	}
}
