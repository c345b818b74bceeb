package catalogtest

import (
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/portalbot/portalbot/catalog"
)

// logState is what a reader following a catalog.ChangeLog holds (the
// generation and every summary) plus, to check the log against, every
// entity as the store answers it.
type logState struct {
	gen       int64
	summaries []catalog.Summary
	// entities maps canonical refs to the JSON of the entity with its
	// origin, relations and definition: everything a reader may show.
	entities map[string]string
}

func readLogState(tb testing.TB, st catalog.Store) logState {
	tb.Helper()
	ctx := context.Background()
	var (
		ls  logState
		err error
	)
	if ls.gen, err = st.Generation(ctx); err != nil {
		tb.Fatalf("Generation: %v", err)
	}
	if ls.summaries, err = st.Summaries(ctx); err != nil {
		tb.Fatalf("Summaries: %v", err)
	}
	es, err := st.Entities(ctx, catalog.Query{WithDefinitions: true})
	if err != nil {
		tb.Fatalf("Entities: %v", err)
	}
	ls.entities = make(map[string]string, len(es))
	for _, e := range es {
		b, err := json.Marshal(struct {
			E *catalog.Entity
			O catalog.Origin
			R []catalog.Relation
		}{e, e.Origin, e.Relations})
		if err != nil {
			tb.Fatalf("encode %s: %v", e.Ref(), err)
		}
		ls.entities[e.Ref().String()] = string(b)
	}
	return ls
}

// checkChangeLog checks, when st is a catalog.ChangeLog, what a reader
// holding the catalog at before relies on after one sync: Changes since
// before's generation is complete (a conformance sync is small), reaches
// the current generation, lists every entity whose summary, document,
// origin or relations changed, and applying it to before's summaries
// through SummariesOf gives the current summaries.
func checkChangeLog(tb testing.TB, st catalog.Store, before logState) {
	tb.Helper()
	cl, ok := st.(catalog.ChangeLog)
	if !ok {
		return
	}
	ctx := context.Background()
	after := readLogState(tb, st)
	ch, err := cl.Changes(ctx, before.gen)
	if err != nil {
		tb.Fatalf("Changes(%d): %v", before.gen, err)
	}
	if !ch.Complete || ch.Generation != after.gen {
		tb.Fatalf("Changes(%d) = generation %d complete %v, want generation %d complete", before.gen, ch.Generation, ch.Complete, after.gen)
	}
	if after.gen == before.gen && len(ch.Refs) > 0 {
		tb.Errorf("Changes(%d) at the same generation = %v, want no refs", before.gen, ch.Refs)
	}
	changed := map[string]bool{}
	for i, r := range ch.Refs {
		key := r.String()
		if i > 0 && ch.Refs[i-1].String() >= key {
			tb.Errorf("Changes(%d).Refs = %v, want sorted and unique", before.gen, ch.Refs)
		}
		changed[key] = true
	}
	for ref, was := range before.entities {
		if now := after.entities[ref]; now != was && !changed[ref] {
			tb.Errorf("Changes(%d) lacks %s, which changed:\nwas %s\nnow %s", before.gen, ref, was, now)
		}
	}
	for ref := range after.entities {
		if _, ok := before.entities[ref]; !ok && !changed[ref] {
			tb.Errorf("Changes(%d) lacks %s, which was added", before.gen, ref)
		}
	}

	fresh, err := cl.SummariesOf(ctx, ch.Refs)
	if err != nil {
		tb.Fatalf("SummariesOf(%v): %v", ch.Refs, err)
	}
	patched := slices.DeleteFunc(slices.Clone(before.summaries), func(s catalog.Summary) bool { return changed[s.Ref.String()] })
	patched = append(patched, fresh...)
	slices.SortFunc(patched, func(a, b catalog.Summary) int { return strings.Compare(a.Ref.String(), b.Ref.String()) })
	if !reflect.DeepEqual(patched, after.summaries) && !(len(patched) == 0 && len(after.summaries) == 0) {
		tb.Errorf("summaries at %d patched with Changes and SummariesOf =\n%+v\nwant Summaries =\n%+v", before.gen, patched, after.summaries)
	}

	if ch, err := cl.Changes(ctx, after.gen); err != nil || !ch.Complete || ch.Generation != after.gen || len(ch.Refs) > 0 {
		tb.Errorf("Changes(current generation %d) = %+v, %v; want complete, no refs", after.gen, ch, err)
	}
}
