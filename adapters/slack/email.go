package slack

import (
	"context"
	"sync"
	"time"

	"github.com/portalbot/portalbot/commands"
)

// emailTTL is how long a user's email is cached; lookups cost a users.info
// call (users:read.email scope).
const emailTTL = time.Hour

// maxEmails bounds the cached emails. A signed request names any user id
// it likes, so the cache must not grow with them; 10,000 covers the people
// of a large workspace who use the bot within an emailTTL.
const maxEmails = 10000

// emailLookupTimeout bounds a users.info call made while answering.
const emailLookupTimeout = 500 * time.Millisecond

type emailEntry struct {
	email   string
	expires time.Time
}

// emailCache maps user ids to emails, so template permissions can match
// chat users to User entities.
type emailCache struct {
	api WebAPI
	now func() time.Time

	mu sync.Mutex
	m  map[string]emailEntry // guarded by mu; at most maxEmails entries
}

func (c *emailCache) lookup(ctx context.Context, user string) string {
	c.mu.Lock()
	e, ok := c.m[user]
	c.mu.Unlock()
	if ok && c.now().Before(e.expires) {
		return e.email
	}
	ctx, cancel := context.WithTimeout(ctx, emailLookupTimeout)
	defer cancel()
	u, err := c.api.GetUserInfoContext(ctx, user)
	if err != nil {
		// No email is an acceptable answer: the engine treats the user as
		// unknown to the catalog. Cache the miss briefly to avoid a call
		// per request while Slack is unreachable.
		c.store(user, "", time.Minute)
		return ""
	}
	c.store(user, u.Profile.Email, emailTTL)
	return u.Profile.Email
}

func (c *emailCache) store(user, email string, ttl time.Duration) {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[user]; !ok && len(c.m) >= maxEmails {
		c.evict(now)
	}
	c.m[user] = emailEntry{email: email, expires: now.Add(ttl)}
}

// evict makes room for one entry: it drops the expired entries, or, when
// none has expired, one entry chosen at random (map order), which costs at
// most one more users.info call later. c.mu must be held.
func (c *emailCache) evict(now time.Time) {
	for u, e := range c.m {
		if !now.Before(e.expires) {
			delete(c.m, u)
		}
	}
	if len(c.m) < maxEmails {
		return
	}
	for u := range c.m {
		delete(c.m, u)
		return
	}
}

// fillEmail lets the request look up its user's email (users.info, cached)
// when a handler asks for it, so a plain lookup makes no Web API call.
func (a *Adapter) fillEmail(_ context.Context, req *commands.Request) {
	if req.UserEmail == "" && req.UserID != "" && req.LookupEmail == nil {
		user := req.UserID
		req.LookupEmail = func(ctx context.Context) string { return a.emails.lookup(ctx, user) }
	}
}
