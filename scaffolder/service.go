package scaffolder

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/catalog/view"
	"github.com/portalbot/portalbot/commands"
)

// Params are the Service's dependencies.
type Params struct {
	// Store holds the Template entities and the entities pickers offer. Required.
	Store catalog.Store
	// View is the read model of Store the entity pickers offer from; nil
	// means one of its own. Pass the one the commands read, so that the
	// catalog is held in memory once.
	View *view.View
	// Launcher starts runs: a *Backstage or a *Runner. Required.
	Launcher Launcher
	// Audit records launches; nil means a memoryAudit.
	Audit Audit
	// Rules decide who may launch what; none means anyone may.
	Rules []Rule
	// PortalURL links entities and Backstage tasks; no trailing slash.
	PortalURL string
	// TaskURL, when set, links a launched task: PortalURL/create/tasks/{id}
	// for a Backstage launcher; empty means no link.
	TaskURL func(taskID string) string
	// FollowTimeout bounds following one run in the background; zero means
	// 15 minutes, the life of a Discord interaction token (PLATFORM.md),
	// after which follow-ups could not be posted anyway.
	FollowTimeout time.Duration
	Logger        *slog.Logger
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Service implements commands.TemplateService. It is safe for concurrent
// use; Close waits for background follow-ups to end.
type Service struct {
	store    catalog.Store
	view     *view.View
	launcher Launcher
	audit    Audit
	rules    []Rule
	portal   string
	taskURL  func(string) string
	timeout  time.Duration
	logger   *slog.Logger
	now      func() time.Time

	states  stateStore
	recent  recent
	schemas schemaCache

	stop   context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

var _ commands.TemplateService = (*Service)(nil)

// New returns a Service. It panics when Store or Launcher is nil (a wiring
// mistake).
func New(p Params) *Service {
	if p.Store == nil || p.Launcher == nil {
		panic("scaffolder: New needs a Store and a Launcher")
	}
	if p.Audit == nil {
		p.Audit = &memoryAudit{}
	}
	if p.FollowTimeout == 0 {
		p.FollowTimeout = 15 * time.Minute
	}
	if p.Logger == nil {
		p.Logger = slog.New(slog.DiscardHandler)
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	if p.View == nil {
		p.View = view.New(view.Params{Store: p.Store, Logger: p.Logger})
	}
	stop, cancel := context.WithCancel(context.Background())
	return &Service{
		store: p.Store, view: p.View, launcher: p.Launcher, audit: p.Audit, rules: p.Rules,
		portal: strings.TrimRight(p.PortalURL, "/"), taskURL: p.TaskURL, timeout: p.FollowTimeout,
		logger: p.Logger.With("component", "scaffolder"), now: p.Now,
		stop: stop, cancel: cancel,
	}
}

// Wait returns once every run being followed has finished (or its follow
// timeout has passed), or when ctx is done. Unlike Close it stops nothing:
// a console whose piped input ended waits so that a create it launched is
// seen through, not cancelled. Runs launched while Wait waits may or may
// not be waited for.
func (s *Service) Wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("wait for template runs: %w", ctx.Err())
	}
}

// Close stops following runs and waits for the follow-up goroutines.
func (s *Service) Close() {
	s.cancel()
	s.wg.Wait()
}

func userOf(ctx context.Context, req *commands.Request) user {
	return user{Platform: req.Platform, ID: req.UserID, Name: req.UserName, Email: req.Email(ctx)}
}

func (s *Service) perms(ctx context.Context, req *commands.Request) *permissions {
	return &permissions{rules: s.rules, store: s.store, user: userOf(ctx, req)}
}
