// The owner command's part of portalbot bench: signed slash commands
// through the Slack adapter and serve's router against the floor, one
// client for latency, several for throughput (issue 19).

package bot

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	slackadapter "github.com/portalbot/portalbot/adapters/slack"
	"github.com/portalbot/portalbot/catalog/sqlstore"
	"github.com/portalbot/portalbot/commands"
	slackgo "github.com/slack-go/slack"
)

// benchSlack times signed "/portal owner service-N" slash commands through
// the Slack adapter's HTTP handler and serve's command router, and the same
// requests against the floor (floorHandler), both served on loopback HTTP
// (httptest.NewServer) and driven by the same client loop.
func benchSlack(ctx context.Context, o benchOptions, st *sqlstore.Store, services int, res *BenchResult, progress func(string)) error {
	// The adapter needs a Web API for late answers; owner answers inline,
	// so this fake only has to exist.
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"ok":true}`)
	}))
	defer fake.Close()
	a := &App{
		Config:  DefaultConfig(),
		Env:     &Env{Getenv: func(string) string { return "" }},
		Logger:  slog.New(slog.DiscardHandler),
		Store:   st,
		Metrics: NewMetrics(),
	}
	router, closeRouter := newRouter(a)
	defer closeRouter()
	ad, err := slackadapter.New(slackadapter.Params{
		Engine:              router,
		API:                 slackgo.New("xoxb-bench", slackgo.OptionAPIURL(fake.URL+"/api/")),
		SigningSecret:       benchSecret,
		ResponseURLPrefixes: []string{fake.URL + "/"},
		Logger:              slog.New(slog.DiscardHandler),
	})
	if err != nil {
		return err
	}
	defer ad.Wait()
	mux := http.NewServeMux()
	ad.Register(mux)
	// Deferred after ad.Wait, so closed before it: no request is under
	// way when the adapter's background work is waited for.
	ownerSrv := httptest.NewServer(mux)
	defer ownerSrv.Close()
	floorSrv := httptest.NewServer(floorHandler(st.DB(), benchSecret))
	defer floorSrv.Close()
	client := &http.Client{Transport: &http.Transport{
		MaxIdleConns: 2 * (o.clients + 1), MaxIdleConnsPerHost: o.clients + 1,
	}}
	defer client.CloseIdleConnections()
	signer := slackadapter.NewVerifier(benchSecret, nil)
	hook := fake.URL + "/hooks/bench"

	// one sends the n-th request of the run to base: "/portal owner" of a
	// service spread over the catalog, the same n naming the same service
	// for both servers. Building and signing the request is not timed.
	one := func(base string, n int64) (time.Duration, error) {
		name := "service-" + strconv.Itoa(int(n*7919)%services)
		body := url.Values{
			"team_id": {"T0BENCH"}, "channel_id": {"C0BENCH"}, "user_id": {"U0BENCH"}, "user_name": {"bench"},
			"command": {"/portal"}, "text": {"owner " + name}, "response_url": {hook}, "trigger_id": {"1.2.bench"},
		}.Encode()
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/slack/commands", strings.NewReader(body))
		if err != nil {
			return 0, err
		}
		ts, sig := signer.Sign(time.Now(), []byte(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Slack-Request-Timestamp", ts)
		req.Header.Set("X-Slack-Signature", sig)
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		took := time.Since(start)
		if err != nil {
			return took, err
		}
		if resp.StatusCode != http.StatusOK || !bytes.Contains(got, []byte(name+" is owned by")) {
			return took, fmt.Errorf("owner %s: HTTP %d: %.200s", name, resp.StatusCode, got)
		}
		return took, nil
	}

	// The first command builds the router's in-memory index and warms its
	// cache; on a large catalog that takes longer than the adapter's 2 s
	// inline-answer budget, so it goes straight to the router, timed apart.
	progress("command index")
	start := time.Now()
	router.Serve(ctx, &commands.Request{Platform: commands.PlatformSlack, Text: "owner service-0"})
	res.IndexMS = millis(time.Since(start))
	for _, base := range []string{ownerSrv.URL, floorSrv.URL} {
		if _, err := one(base, 0); err != nil {
			return err
		}
	}

	// Latency, one request at a time, alternating owner and floor so that
	// both see the same load on a shared machine.
	progress(fmt.Sprintf("owner and floor latency, %d requests each", o.requests))
	lat := make([]time.Duration, 0, o.requests)
	flat := make([]time.Duration, 0, o.requests)
	for i := range o.requests {
		d, err := one(ownerSrv.URL, int64(i+1))
		if err != nil {
			return err
		}
		lat = append(lat, d)
		if d, err = one(floorSrv.URL, int64(i+1)); err != nil {
			return err
		}
		flat = append(flat, d)
	}
	res.OwnerN = len(lat)
	res.OwnerP50MS, res.OwnerP99MS = percentileMS(lat, 0.50), percentileMS(lat, 0.99)
	res.FloorP50MS, res.FloorP99MS = percentileMS(flat, 0.50), percentileMS(flat, 0.99)

	progress(fmt.Sprintf("owner throughput, %d clients for %s", o.clients, o.duration))
	perSec, elapsed, err := benchThroughput(ctx, o, func(n int64) error { _, err := one(ownerSrv.URL, n); return err })
	if err != nil {
		return err
	}
	res.DurationS, res.OwnerPerSec = elapsed.Seconds(), perSec
	progress(fmt.Sprintf("floor throughput, %d clients for %s", o.clients, o.duration))
	if res.FloorPerSec, _, err = benchThroughput(ctx, o, func(n int64) error { _, err := one(floorSrv.URL, n); return err }); err != nil {
		return err
	}
	if res.FloorP99MS > 0 {
		res.OwnerP99Ratio = res.OwnerP99MS / res.FloorP99MS
	}
	if res.FloorPerSec > 0 {
		res.OwnerThroughputRatio = res.OwnerPerSec / res.FloorPerSec
	}
	return nil
}

// percentileMS returns the p-th percentile of lat in milliseconds; it
// sorts lat.
func percentileMS(lat []time.Duration, p float64) float64 {
	slices.Sort(lat)
	return millis(lat[int(p*float64(len(lat)-1))])
}

// benchThroughput runs o.clients loops calling send with increasing
// request numbers for o.duration, and returns the calls per second.
func benchThroughput(ctx context.Context, o benchOptions, send func(n int64) error) (float64, time.Duration, error) {
	tctx, cancel := context.WithTimeout(ctx, o.duration)
	defer cancel()
	var seq, done atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	start := time.Now()
	for range o.clients {
		wg.Go(func() {
			for tctx.Err() == nil {
				if err := send(seq.Add(1)); err != nil {
					if tctx.Err() == nil {
						once.Do(func() { firstErr = err; cancel() })
					}
					return
				}
				done.Add(1)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if firstErr != nil {
		return 0, 0, firstErr
	}
	if err := ctx.Err(); err != nil {
		return 0, 0, err
	}
	return float64(done.Load()) / elapsed.Seconds(), elapsed, nil
}
