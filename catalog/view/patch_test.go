package view

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/portalbot/portalbot/catalog"
)

// benchWords make up the titles, descriptions and tags of generated
// summaries.
var benchWords = []string{"payments", "ledger", "checkout", "fraud", "detector", "worker", "search", "billing",
	"reports", "events", "invoice", "gateway", "stream", "cache", "auth", "profile", "orders", "stock"}

// genSummaries returns n summaries shaped like the bench catalog's (mostly
// services owned by teams, some teams, people, systems and Locations),
// sorted by canonical ref as Store.Summaries returns them.
func genSummaries(rng *rand.Rand, n int) []catalog.Summary {
	pick := func(k int) []string {
		out := make([]string, 0, k)
		for range k {
			out = append(out, benchWords[rng.IntN(len(benchWords))])
		}
		return out
	}
	sums := make([]catalog.Summary, 0, n)
	for i := range n {
		var sm catalog.Summary
		switch {
		case i%100 == 0:
			sm.Ref = catalog.Ref{Kind: catalog.KindGroup, Namespace: "default", Name: fmt.Sprintf("team-%d", i/100)}
			sm.Title = "Team " + strings.Join(pick(1), " ")
		case i%100 == 1:
			sm.Ref = catalog.Ref{Kind: catalog.KindUser, Namespace: "default", Name: fmt.Sprintf("person-%d", i)}
		case i%100 == 2:
			sm.Ref = catalog.Ref{Kind: catalog.KindLocation, Namespace: "default", Name: fmt.Sprintf("repo-%d", i)}
		case i%50 == 3:
			sm.Ref = catalog.Ref{Kind: catalog.KindSystem, Namespace: "default", Name: fmt.Sprintf("system-%d", i)}
			sm.Owner = fmt.Sprintf("team-%d", rng.IntN(n/100+1))
		default:
			sm.Ref = catalog.Ref{Kind: catalog.KindComponent, Namespace: "default", Name: fmt.Sprintf("service-%d", i)}
			sm.Title = strings.Join(pick(rng.IntN(3)), " ")
			sm.Description = "Serves " + strings.Join(pick(2+rng.IntN(6)), ", ")
			sm.Tags = pick(rng.IntN(3))
			sm.Owner = fmt.Sprintf("group:default/team-%d", rng.IntN(n/100+1))
			sm.Type, sm.Lifecycle = "service", "production"
		}
		sums = append(sums, sm)
	}
	sortSummaries(sums)
	return sums
}

// sortSummaries sorts sums by canonical ref, as Store.Summaries does.
func sortSummaries(sums []catalog.Summary) {
	slices.SortFunc(sums, func(a, b catalog.Summary) int { return strings.Compare(a.Ref.String(), b.Ref.String()) })
}

// BenchmarkBuild measures a full build of the snapshot of 100,000
// summaries: what every change cost before patches.
func BenchmarkBuild(b *testing.B) {
	sums := genSummaries(rand.New(rand.NewPCG(1, 2)), 100000)
	b.ReportAllocs()
	for b.Loop() {
		buildSnapshot(2, sums)
	}
}
