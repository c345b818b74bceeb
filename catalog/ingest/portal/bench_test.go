package portal_test

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/portalbot/portalbot/catalog/sqlstore/sqlstoretest"
	"io"
	"net/http"
	"testing"

	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/catalog/ingest/portal"
	"github.com/portalbot/portalbot/catalog/ingest/portal/portaltest"
)

// generated returns n entities in the shape recorded from Backstage: one
// Group per 100 entities, one User per 10, the rest Component and API
// pairs copied from the recorded payments-api and payments-rest (the API
// with its definition), with Backstage-style uids, etags and relations.
func generated(tb testing.TB, n int) []map[string]any {
	tb.Helper()
	rec := portaltest.Recorded(tb)
	tmpl := map[string]map[string]any{}
	for _, e := range rec {
		tmpl[portaltest.Ref(e)] = e
	}
	clone := func(ref string) map[string]any {
		b, err := json.Marshal(tmpl[ref])
		if err != nil {
			tb.Fatal(err)
		}
		var c map[string]any
		if err := json.Unmarshal(b, &c); err != nil {
			tb.Fatal(err)
		}
		return c
	}
	rels := func(pairs ...string) []any {
		out := make([]any, 0, len(pairs)/2)
		for i := 0; i+1 < len(pairs); i += 2 {
			out = append(out, map[string]any{"type": pairs[i], "targetRef": pairs[i+1]})
		}
		return out
	}
	id := 0
	stamp := func(e map[string]any, name string) {
		id++
		md := e["metadata"].(map[string]any)
		md["name"] = name
		md["uid"] = fmt.Sprintf("%08x-0000-4000-8000-%012x", id, id)
		md["etag"] = fmt.Sprintf("%040x", id*7919)
	}
	groups, users := max(1, n/100), n/10
	var out []map[string]any
	for g := range groups {
		e := clone("group:default/payments")
		stamp(e, fmt.Sprintf("team-%d", g))
		e["relations"] = rels("hasMember", fmt.Sprintf("user:default/user-%d", g))
		out = append(out, e)
	}
	for u := range users {
		e := clone("user:default/ada")
		stamp(e, fmt.Sprintf("user-%d", u))
		e["relations"] = rels("memberOf", fmt.Sprintf("group:default/team-%d", u%groups))
		out = append(out, e)
	}
	for i := 0; len(out) < n; i++ {
		team := fmt.Sprintf("group:default/team-%d", i%groups)
		c := clone("component:default/payments-api")
		stamp(c, fmt.Sprintf("service-%d", i))
		c["spec"].(map[string]any)["owner"] = team
		c["spec"].(map[string]any)["providesApis"] = []any{fmt.Sprintf("service-%d-api", i)}
		c["relations"] = rels("ownedBy", team, "providesApi", fmt.Sprintf("api:default/service-%d-api", i),
			"partOf", "system:default/checkout", "dependsOn", "resource:default/payments-db")
		out = append(out, c)
		a := clone("api:default/payments-rest")
		stamp(a, fmt.Sprintf("service-%d-api", i))
		a["spec"].(map[string]any)["owner"] = team
		a["relations"] = rels("ownedBy", team, "apiProvidedBy", fmt.Sprintf("component:default/service-%d", i),
			"partOf", "system:default/checkout")
		out = append(out, a)
	}
	return out
}

// discardStore takes a sync and stores nothing, so that BenchmarkPull's
// "client" case measures the pull alone. Methods it does not override are
// never called by Sync without an etag list.
type discardStore struct{ catalog.Store }

func (discardStore) ApplySync(ctx context.Context, b catalog.SyncBatch) (catalog.SyncResult, error) {
	return catalog.SyncResult{Added: len(b.Files)}, nil
}
func (discardStore) Counts(ctx context.Context) (map[string]int, error) { return nil, nil }
func (discardStore) ProcessingErrors(ctx context.Context, source string) ([]catalog.ProcessingError, error) {
	return nil, nil
}
func (discardStore) RecordSourceError(ctx context.Context, src catalog.Source, msg string) error {
	return nil
}

// plainPull pages through the API with a plain HTTP client, decoding each
// page's items as raw JSON (the least any client does) or, with maps, as
// generic maps (what a client that reads the entities does).
func plainPull[T any](b *testing.B, url string, pageSize int) int {
	n, cursor := 0, ""
	for {
		u := fmt.Sprintf("%s/api/catalog/entities/by-query?limit=%d", url, pageSize)
		if cursor != "" {
			u += "&cursor=" + cursor
		}
		req, _ := http.NewRequest("GET", u, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		data, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			b.Fatal(err)
		}
		var p struct {
			Items    []T `json:"items"`
			PageInfo struct {
				NextCursor string `json:"nextCursor"`
			} `json:"pageInfo"`
		}
		if err := json.Unmarshal(data, &p); err != nil {
			b.Fatal(err)
		}
		n += len(p.Items)
		if p.PageInfo.NextCursor == "" {
			return n
		}
		cursor = p.PageInfo.NextCursor
	}
}

// BenchmarkPull compares, at 2,000 and 20,000 entities served in
// Backstage's shape by a local HTTP server: paging the API with a plain
// client, items decoded as raw JSON ("plain") or as maps ("plain-maps"),
// portalbot's pull without a store ("client"), a first
// sync into SQLite ("sync-sqlite", the whole `portalbot sync --backstage`),
// and a re-pull where nothing changed ("noop-sqlite").
func BenchmarkPull(b *testing.B) {
	for _, n := range []int{2000, 20000} {
		ents := generated(b, n)
		srv := portaltest.NewServer(b, token, ents)
		src := portal.Source{Name: "portal", URL: srv.URL}
		getenv := func(string) string { return token }
		const pageSize = 500
		b.Run(fmt.Sprintf("%d/plain", n), func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				if got := plainPull[json.RawMessage](b, srv.URL, pageSize); got != n {
					b.Fatalf("plain pull got %d entities, want %d", got, n)
				}
			}
		})
		b.Run(fmt.Sprintf("%d/plain-maps", n), func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				if got := plainPull[map[string]any](b, srv.URL, pageSize); got != n {
					b.Fatalf("plain pull got %d entities, want %d", got, n)
				}
			}
		})
		b.Run(fmt.Sprintf("%d/client", n), func(b *testing.B) {
			b.ReportAllocs()
			sy := portal.New(discardStore{}, portal.Options{Getenv: getenv, Limits: portal.Limits{PageSize: pageSize}})
			for range b.N {
				res, err := sy.Sync(context.Background(), src)
				if err != nil || res.Added != n {
					b.Fatalf("Sync = %d added, %v; want %d", res.Added, err, n)
				}
			}
		})
		b.Run(fmt.Sprintf("%d/sync-sqlite", n), func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				b.StopTimer()
				st := sqlstoretest.OpenSQLite(b)
				sy := portal.New(st, portal.Options{Getenv: getenv, Limits: portal.Limits{PageSize: pageSize}})
				b.StartTimer()
				res, err := sy.Sync(context.Background(), src)
				if err != nil || res.Added != n {
					b.Fatalf("Sync = %d added, %v; want %d", res.Added, err, n)
				}
			}
		})
		b.Run(fmt.Sprintf("%d/noop-sqlite", n), func(b *testing.B) {
			b.ReportAllocs()
			st := sqlstoretest.OpenSQLite(b)
			sy := portal.New(st, portal.Options{Getenv: getenv, Limits: portal.Limits{PageSize: pageSize}})
			if _, err := sy.Sync(context.Background(), src); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for range b.N {
				res, err := sy.Sync(context.Background(), src)
				if err != nil || !res.NoOp || res.Unchanged != n {
					b.Fatalf("no-op Sync = %+v, %v", res, err)
				}
			}
		})
	}
}
