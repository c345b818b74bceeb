package ingest_test

import (
	"context"
	"fmt"
	"github.com/portalbot/portalbot/catalog/sqlstore/sqlstoretest"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/catalog/ingest"
	"github.com/portalbot/portalbot/catalog/sqlstore"
	"github.com/portalbot/portalbot/catalog/synth"
)

// syncAlloc syncs src and returns the result and the bytes allocated
// meanwhile.
func syncAlloc(t *testing.T, s *ingest.Syncer, src ingest.Source) (ingest.Result, uint64) {
	t.Helper()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	res := mustSync(t, s, src)
	runtime.ReadMemStats(&after)
	return res, after.TotalAlloc - before.TotalAlloc
}

// TestPlaceholderMarkerLimits checks that a file mentioning a placeholder
// marker, even in a comment, is refused by the same structure limits as
// any other file, before its YAML is decoded: the old resolver decoded
// every document of such a file whole (an 8 MB flat list with "# $text"
// on line 1 took 15 s and 4.8 GB). A file just over a limit must cost
// about what the same file without the marker costs.
func TestPlaceholderMarkerLimits(t *testing.T) {
	shapes := map[string]struct{ body, want string }{
		"flat list":      {"[" + strings.Repeat("a,", catalog.MaxDocumentValues) + "a]\n", "more than 250000 YAML values"},
		"many documents": {strings.Repeat("---\n", catalog.MaxDocuments+1), "more than 100000 YAML documents"},
	}
	stores(t, func(t *testing.T, st *sqlstore.Store) {
		for name, sh := range shapes {
			t.Run(name, func(t *testing.T) {
				var plain uint64
				for _, marker := range []string{"", "# $text\n", "# $yaml: ./x.yaml\n", "# $json\n"} {
					repo := newRepo(t, map[string]string{
						"catalog-info.yaml":                rootLocation,
						"groups.yaml":                      groups,
						"services/big/catalog-info.yaml":   marker + sh.body,
						"services/alpha/catalog-info.yaml": service("alpha", "team-a"),
					})
					s := ingest.New(st, ingest.Options{CacheDir: t.TempDir()})
					res, alloc := syncAlloc(t, s, ingest.Source{Name: "hostile", Repo: repo})
					errs := errorsOf(res, "services/big/catalog-info.yaml")
					if len(errs) != 1 || !strings.Contains(errs[0].Message, sh.want) {
						t.Errorf("marker %q: errors of the big file = %v, want one saying %q", marker, errs, sh.want)
					}
					if len(res.Errors) != len(errs) {
						t.Errorf("marker %q: errors = %v, want only the big file's", marker, res.Errors)
					}
					entity(t, st, "component:alpha")
					if marker == "" {
						plain = alloc
						continue
					}
					// The check reads the text without allocating; decoding
					// it would allocate tens of megabytes.
					if alloc > plain+8<<20 {
						t.Errorf("marker %q: sync allocated %d MiB, the same file without it %d MiB", marker, alloc>>20, plain>>20)
					}
				}
			})
		}
	})
}

// refs is a descriptor of docs API documents, each holding perDoc $text
// placeholders naming target.
func refs(docs, perDoc int, name, target string) string {
	var b strings.Builder
	for d := range docs {
		if d > 0 {
			b.WriteString("---\n")
		}
		fmt.Fprintf(&b, "apiVersion: backstage.io/v1alpha1\nkind: API\nmetadata:\n  name: %s-%d\nspec:\n  type: openapi\n  lifecycle: production\n  owner: team-a\n  definition:\n    $text: %s\n", name, d, target)
		if perDoc > 1 {
			b.WriteString("  examples:\n")
		}
		for range perDoc - 1 {
			fmt.Fprintf(&b, "    - $text: %s\n", target)
		}
	}
	return b.String()
}

// TestPlaceholderFileBudget checks that the placeholders of one file share
// a budget: 64 $text references to one 5 MB file in three documents (which
// took 16 s and 3 GB) are refused at the line of the reference that goes
// past it, and the file's entities keep their last good state.
func TestPlaceholderFileBudget(t *testing.T) {
	big := strings.Repeat("openapi: 3.0.0 # padding padding padding padding padding padding\n", 5_000_000/66)
	stores(t, func(t *testing.T, st *sqlstore.Store) {
		ctx := context.Background()
		repo := newRepo(t, map[string]string{
			"catalog-info.yaml":                rootLocation,
			"groups.yaml":                      groups,
			"services/apis/catalog-info.yaml":  refs(3, 1, "big", "./small.yaml"),
			"services/apis/small.yaml":         openapi,
			"services/apis/openapi.yaml":       big,
			"services/alpha/catalog-info.yaml": service("alpha", "team-a"),
		})
		s := ingest.New(st, ingest.Options{CacheDir: t.TempDir()})
		src := ingest.Source{Name: "budget", Repo: repo}
		if res := mustSync(t, s, src); len(res.Errors) != 0 {
			t.Fatalf("first Sync errors: %v", res.Errors)
		}
		commit(t, repo, map[string]string{"services/apis/catalog-info.yaml": refs(3, 22, "big", "./openapi.yaml")})
		res, alloc := syncAlloc(t, s, src)
		errs := errorsOf(res, "services/apis/catalog-info.yaml")
		// Two references fit in 10 MiB; the third, on line 13, does not,
		// and each later document fails at its first reference.
		wantLines := []int{13, 43, 76}
		if len(errs) != len(wantLines) {
			t.Fatalf("errors of services/apis = %v, want %d (lines %v)", errs, len(wantLines), wantLines)
		}
		for i, e := range errs {
			if e.Line != wantLines[i] || !strings.Contains(e.Message, "placeholders of this file add more than 10 MiB") {
				t.Errorf("error %d = %s:%d %q, want line %d saying the file's placeholders add more than 10 MiB", i, e.Path, e.Line, e.Message, wantLines[i])
			}
		}
		for d := range 3 {
			ref := catalog.MustParseRef(fmt.Sprintf("api:big-%d", d))
			if def, err := st.Definition(ctx, ref); err != nil || def != openapi {
				t.Errorf("Definition(%s) = %d bytes, %v; want the last good one", ref, len(def), err)
			}
			if e := entity(t, st, ref.String()); e.Spec["examples"] != nil {
				t.Errorf("Entity(%s) examples = %.60v, want the last good entity (none)", ref, e.Spec["examples"])
			}
		}
		if alloc > 200<<20 {
			t.Errorf("Sync allocated %d MiB, want a refusal costing well under 200", alloc>>20)
		}
	})
}

// TestPlaceholderSyncBudget checks that one sync reads each placeholder
// target once, however many files and documents name it, and that the
// placeholders of all files share a budget: past it, the file whose
// reference goes over gets an error and keeps its last good state.
func TestPlaceholderSyncBudget(t *testing.T) {
	const target = 256 << 10
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.Write([]byte(strings.Repeat("x", target)))
	}))
	defer srv.Close()
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	def := srv.URL + "/openapi.yaml"
	stores(t, func(t *testing.T, st *sqlstore.Store) {
		files := map[string]string{"catalog-info.yaml": rootLocation, "groups.yaml": groups}
		for i := range 5 {
			files[fmt.Sprintf("services/s%d/catalog-info.yaml", i)] = refs(2, 1, fmt.Sprintf("s%d", i), def)
		}
		repo := newRepo(t, files)
		opts := ingest.Placeholders{AllowedHosts: []string{u.Host}, MaxSyncBytes: 23 * target / 2}
		s := ingest.New(st, ingest.Options{CacheDir: t.TempDir(), Placeholders: opts})
		src := ingest.Source{Name: "shared", Repo: repo}
		requests.Store(0)
		if res := mustSync(t, s, src); len(res.Errors) != 0 {
			t.Fatalf("first Sync errors: %v", res.Errors)
		}
		if n := requests.Load(); n != 1 {
			t.Errorf("first Sync fetched the shared definition %d times, want once", n)
		}

		// A sixth file pushes the sync over its 2.9 MiB: the twelfth
		// reference goes past it (which file's depends on the order the
		// workers reach them).
		commit(t, repo, map[string]string{"services/s5/catalog-info.yaml": refs(2, 1, "s5", def)})
		requests.Store(0)
		res := mustSync(t, s, src)
		var over []catalog.ProcessingError
		for _, e := range res.Errors {
			if strings.Contains(e.Message, "placeholders of this sync add more than 2.9 MiB") {
				over = append(over, e)
			}
		}
		if len(over) != 1 || len(res.Errors) != 1 || over[0].Line != 10 && over[0].Line != 21 {
			t.Fatalf("second Sync errors = %v, want one at line 10 or 21 saying the sync's placeholders add more than 2.9 MiB", res.Errors)
		}
		if n := requests.Load(); n != 1 {
			t.Errorf("second Sync fetched the shared definition %d times, want once", n)
		}
		for i := range 6 {
			for d := range 2 {
				ref := fmt.Sprintf("api:s%d-%d", i, d)
				broken := over[0].Path == fmt.Sprintf("services/s%d/catalog-info.yaml", i)
				_, err := st.Entity(context.Background(), catalog.MustParseRef(ref))
				if i == 5 && broken {
					continue // new and broken: in the store or not, depending on which document failed
				}
				if err != nil {
					t.Errorf("Entity(%s) = %v, want it kept", ref, err)
				}
			}
		}
	})
}

// BenchmarkHostilePlaceholders syncs issue 14's hostile files into SQLite:
// an 8 MB flat list with "# $text" on line 1, and 64 $text references to
// one 5 MB file in three documents. It reports the process's peak
// resident set during the sync (peak-rss-MiB). Run with:
//
//	go test ./catalog/ingest -run '^$' -bench HostilePlaceholders -benchtime 3x
func BenchmarkHostilePlaceholders(b *testing.B) {
	flat := "# $text\n[" + strings.Repeat("a,", 4_000_000) + "a]\n"
	big := strings.Repeat("openapi: 3.0.0 # padding padding padding padding padding padding\n", 5_000_000/66)
	for _, bc := range []struct {
		name  string
		files map[string]string
	}{
		{"flat-8MB", map[string]string{"services/big/catalog-info.yaml": flat}},
		{"64-refs-5MB", map[string]string{
			"services/apis/catalog-info.yaml": refs(1, 22, "big", "./openapi.yaml") + "---\n" + refs(2, 21, "more", "./openapi.yaml"),
			"services/apis/openapi.yaml":      big,
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			files := map[string]string{"catalog-info.yaml": rootLocation, "groups.yaml": groups}
			for k, v := range bc.files {
				files[k] = v
			}
			dir := b.TempDir() + "/repo"
			if _, err := synth.Init(dir); err != nil {
				b.Fatal(err)
			}
			ch := map[string]synth.Change{}
			for p, c := range files {
				ch[p] = synth.Write(c)
			}
			if _, err := synth.Commit(dir, "hostile", ch); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			peak := 0.0
			for b.Loop() {
				st := sqlstoretest.OpenSQLite(b)
				s := ingest.New(st, ingest.Options{CacheDir: b.TempDir()})
				resetPeakRSS()
				res, err := s.Sync(context.Background(), ingest.Source{Name: "hostile", Repo: dir})
				peak = max(peak, peakRSS())
				if err != nil || len(res.Errors) == 0 {
					b.Fatalf("Sync = %+v, %v; want errors for the hostile file", res.Errors, err)
				}
			}
			b.ReportMetric(peak, "peak-rss-MiB")
		})
	}
}
