// The store's read side in one file (over 500 lines): every query a reader runs, with the
// shortcuts that keep reports and commands from scanning, sharing one row decoding.

package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/portalbot/portalbot/catalog"
)

// Entity returns the entity named by ref, compared case-insensitively, with
// its relations and without spec.definition. The error wraps
// catalog.ErrNotFound if there is none.
//
// It is the hot path of every owner command, so the entity and both
// directions of its relations come back from one statement, one round trip
// to Postgres: the entity's row (part 0), then its forward relations and the
// inverses of the relations that name it as target (part 1).
func (s *Store) Entity(ctx context.Context, ref catalog.Ref) (*catalog.Entity, error) {
	key := ref.String()
	var rows *sql.Rows
	stmt, err := s.statement(ctx, &s.entityStmt, s.entityQuery)
	if err == nil {
		if stmt != nil {
			rows, err = stmt.QueryContext(ctx, key, key, key)
		} else {
			rows, err = s.db.QueryContext(ctx, s.entityQuery(), key, key, key)
		}
	}
	if err != nil {
		return nil, s.wrap("entity "+key, err)
	}
	defer rows.Close()
	var (
		e    *catalog.Entity
		rels []relationRow
	)
	for rows.Next() {
		var (
			part               int
			row                storedEntity
			relType, relTarget string
		)
		if err := rows.Scan(&part, &row.Ref, &row.Doc, &row.Source, &row.Path, &row.Line, &row.Commit,
			&row.Etag, &row.UID, &relType, &relTarget); err != nil {
			return nil, s.wrap("entity "+key, err)
		}
		if part == 0 {
			if e, err = row.decode(); err != nil {
				return nil, err
			}
			continue
		}
		rels = append(rels, relationRow{Source: key, Type: relType, Target: relTarget})
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap("entity "+key, err)
	}
	if e == nil {
		return nil, s.wrap("entity "+key, sql.ErrNoRows)
	}
	e.Relations = relations(sortedRelations(rels))
	return e, nil
}

// statement returns the statement of query prepared in o, on Postgres,
// and nil on SQLite. Sent unnamed, as lib/pq sends a query with
// arguments, Postgres planned Entity's three-part statement again on
// every owner command: 0.67 ms of server CPU per command against 0.18 ms
// for a plain indexed SELECT, and 1,236 instead of 8,131 statements a
// second with 8 clients at 50,000 entities (issue 19). database/sql
// prepares it again on each connection it runs on. SQLite, in-process,
// measured no better prepared.
func (s *Store) statement(ctx context.Context, o *onceStmt, query func() string) (*sql.Stmt, error) {
	if !s.pg() {
		return nil, nil
	}
	o.mu.Lock()
	st := o.st
	o.mu.Unlock()
	if st != nil {
		return st, nil
	}
	// Prepared without the lock, so that a hung database holds up only
	// the calls that would wait on it anyway, each to its own deadline.
	st, err := s.db.PrepareContext(ctx, query())
	if err != nil {
		return nil, err // prepared again on the next call
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.st != nil {
		// Another call prepared it meanwhile: keep one.
		_ = st.Close()
		return o.st, nil
	}
	o.st = st
	return st, nil
}

// onceStmt holds a statement prepared once (Store.statement).
type onceStmt struct {
	mu sync.Mutex
	st *sql.Stmt // nil until prepared; guarded by mu
}

// close closes the statement, if prepared.
func (o *onceStmt) close() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.st != nil {
		// Closing the pool releases it on the server either way.
		_ = o.st.Close()
		o.st = nil
	}
}

// entityQuery is Entity's statement, taking the canonical ref three times.
// UNION ALL keeps the parts apart; sortedRelations then does what Relations'
// UNION and ORDER BY do.
func (s *Store) entityQuery() string {
	return s.db.Rebind("SELECT 0 AS part, " + entityColumns + ", '' AS type, '' AS target FROM entities e WHERE e.ref = ?" +
		" UNION ALL SELECT 1, '', '', '', '', 0, '', '', '', type, target_ref FROM relations WHERE source_ref = ?" +
		" UNION ALL SELECT 1, '', '', '', '', 0, '', '', '', inverse_type, source_ref FROM relations" +
		" WHERE target_ref = ? AND inverse_type <> ''")
}

// sortedRelations sorts the relations of one entity by type and target, as
// Relations returns them, and drops duplicates (two entities declaring the
// same edge: a Group's children and its child's parent).
func sortedRelations(rows []relationRow) []relationRow {
	slices.SortFunc(rows, func(a, b relationRow) int {
		if c := strings.Compare(a.Type, b.Type); c != 0 {
			return c
		}
		return strings.Compare(a.Target, b.Target)
	})
	return slices.Compact(rows)
}

// bareEntity is Entities for one ref without relations: the row by
// primary key, with a statement prepared once and scanned without
// reflection. The owner command reads its subject so (issue 19): its answer
// shows none of the subject's relations, which Entity would read with two
// more index scans of relations.
func (s *Store) bareEntity(ctx context.Context, ref catalog.Ref) ([]*catalog.Entity, error) {
	key := ref.String()
	var row *sql.Row
	stmt, err := s.statement(ctx, &s.bareStmt, s.bareQuery)
	if err != nil {
		return nil, s.wrap("entities "+key, err)
	}
	if stmt != nil {
		row = stmt.QueryRowContext(ctx, key)
	} else {
		row = s.db.QueryRowContext(ctx, s.bareQuery(), key)
	}
	var r storedEntity
	err = row.Scan(&r.Ref, &r.Doc, &r.Source, &r.Path, &r.Line, &r.Commit, &r.Etag, &r.UID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, s.wrap("entities "+key, err)
	}
	e, err := r.decode()
	if err != nil {
		return nil, err
	}
	e.RelationsOmitted = true
	return []*catalog.Entity{e}, nil
}

// bareQuery is bareEntity's statement, taking the canonical ref.
func (s *Store) bareQuery() string {
	return s.db.Rebind("SELECT " + entityColumns + " FROM entities e WHERE e.ref = ?")
}

// where builds the WHERE clause (with "?" placeholders) selecting q's
// entities from "entities e".
func where(q catalog.Query) (string, []any) {
	var (
		conds []string
		args  []any
	)
	if q.Kind != "" {
		// Refs start with "<kind>:", so the primary key answers a kind
		// filter as a range: ':' + 1 is ';'.
		k := strings.ToLower(q.Kind)
		conds, args = append(conds, "e.ref >= ? AND e.ref < ? AND lower(e.kind) = ?"), append(args, k+":", k+";", k)
	}
	if q.Namespace != "" {
		conds, args = append(conds, "lower(e.namespace) = ?"), append(args, strings.ToLower(q.Namespace))
	}
	if q.Name != "" {
		conds, args = append(conds, "lower(e.name) = ?"), append(args, strings.ToLower(q.Name))
	}
	if q.Owner != nil {
		conds, args = append(conds, "e.owner = ?"), append(args, q.Owner.String())
	}
	if q.Refs != nil {
		if len(q.Refs) == 0 {
			conds = append(conds, "1 = 0")
		} else {
			conds = append(conds, "e.ref IN (?"+strings.Repeat(", ?", len(q.Refs)-1)+")")
			for _, r := range q.Refs {
				args = append(args, r.String())
			}
		}
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// Entities returns the entities matching q, sorted by canonical ref, each
// with its relations.
func (s *Store) Entities(ctx context.Context, q catalog.Query) ([]*catalog.Entity, error) {
	if len(q.Refs) == 1 && q.NoRelations && !q.WithDefinitions &&
		q.Kind == "" && q.Namespace == "" && q.Name == "" && q.Owner == nil {
		return s.bareEntity(ctx, q.Refs[0])
	}
	w, args := where(q)
	limit := ""
	if q.Limit > 0 {
		limit = fmt.Sprintf(" LIMIT %d", q.Limit)
	}
	def := "NULL AS definition"
	join := ""
	if q.WithDefinitions {
		def, join = "d.text AS definition", " LEFT JOIN definitions d ON d.hash = e.definition_hash"
	}
	var rows []storedEntity
	query := "SELECT " + entityColumns + ", " + def + " FROM entities e" + join + w + " ORDER BY e.ref" + limit
	if err := s.db.SelectContext(ctx, &rows, s.db.Rebind(query), args...); err != nil {
		return nil, s.wrap("entities", err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	out := make([]*catalog.Entity, len(rows))
	byRef := make(map[string]*catalog.Entity, len(rows))
	for i := range rows {
		e, err := rows[i].decode()
		if err != nil {
			return nil, err
		}
		out[i] = e
		byRef[rows[i].Ref] = e
	}
	if q.NoRelations {
		for _, e := range out {
			e.RelationsOmitted = true
		}
		return out, nil
	}
	// One query for the relations of every entity selected.
	var rels []relationRow
	sel := "(SELECT e.ref FROM entities e" + w + " ORDER BY e.ref" + limit + ")"
	rq := "SELECT source_ref, type, target_ref FROM relations WHERE source_ref IN " + sel +
		" UNION SELECT " + inverseColumns + " FROM relations WHERE inverse_type <> '' AND target_ref IN " + sel +
		" ORDER BY source_ref, type, target_ref"
	if err := s.db.SelectContext(ctx, &rels, s.db.Rebind(rq), append(slices.Clip(args), args...)...); err != nil {
		return nil, s.wrap("entities: relations", err)
	}
	for _, r := range rels {
		if e := byRef[r.Source]; e != nil {
			e.Relations = append(e.Relations, r.relation())
		}
	}
	return out, nil
}

// inverseColumns selects a stored forward relation as its inverse, under
// the column names of relationRow. UNION with the forward rows also removes
// the duplicates two entities declaring the same edge produce (a Group's
// children and its child's parent).
const inverseColumns = "target_ref AS source_ref, inverse_type AS type, source_ref AS target_ref"

// Relations returns the relations whose source is ref, both directions
// included, sorted by type and target.
func (s *Store) Relations(ctx context.Context, ref catalog.Ref) ([]catalog.Relation, error) {
	var rows []relationRow
	err := s.db.SelectContext(ctx, &rows, s.db.Rebind(
		"SELECT source_ref, type, target_ref FROM relations WHERE source_ref = ?"+
			" UNION SELECT "+inverseColumns+" FROM relations WHERE target_ref = ? AND inverse_type <> ''"+
			" ORDER BY type, target_ref"), ref.String(), ref.String())
	if err != nil {
		return nil, s.wrap("relations "+ref.String(), err)
	}
	return relations(rows), nil
}

// RelationsOfType returns every stored relation of type typ, sorted by
// source and target.
//
// No index covers type (a sync would pay for it), so this is one scan of
// the relations table for the forward rows of typ and the rows whose
// inverse is typ, turned, sorted and deduplicated here; SQLite otherwise
// walked both ref indexes for a UNION (0.4 s for hasMember at 100,000
// entities, against 0.03 s).
func (s *Store) RelationsOfType(ctx context.Context, typ string) ([]catalog.Relation, error) {
	rows, err := s.db.QueryContext(ctx, s.db.Rebind(
		"SELECT source_ref, type, target_ref, inverse_type FROM relations WHERE type = ? OR inverse_type = ?"), typ, typ)
	if err != nil {
		return nil, s.wrap("relations of type "+typ, err)
	}
	defer rows.Close()
	var out []relationRow
	for rows.Next() {
		var src, fwd, dst, inv string
		if err := rows.Scan(&src, &fwd, &dst, &inv); err != nil {
			return nil, s.wrap("relations of type "+typ, err)
		}
		if fwd == typ {
			out = append(out, relationRow{Source: src, Type: typ, Target: dst})
		}
		if inv == typ {
			out = append(out, relationRow{Source: dst, Type: typ, Target: src})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap("relations of type "+typ, err)
	}
	// Refs compare bytewise in both databases (Postgres through COLLATE
	// "C"), as strings.Compare does.
	slices.SortFunc(out, func(a, b relationRow) int {
		if c := strings.Compare(a.Source, b.Source); c != 0 {
			return c
		}
		return strings.Compare(a.Target, b.Target)
	})
	return relations(slices.Compact(out)), nil
}

func relations(rows []relationRow) []catalog.Relation {
	if len(rows) == 0 {
		return nil
	}
	out := make([]catalog.Relation, len(rows))
	for i, r := range rows {
		out[i] = r.relation()
	}
	return out
}

// Definition returns the stored spec.definition of the entity named by ref.
// The error wraps catalog.ErrNotFound when the entity or its definition is
// missing.
func (s *Store) Definition(ctx context.Context, ref catalog.Ref) (string, error) {
	var text string
	err := s.db.GetContext(ctx, &text, s.db.Rebind(
		"SELECT d.text FROM entities e JOIN definitions d ON d.hash = e.definition_hash WHERE e.ref = ?"), ref.String())
	if err != nil {
		return "", s.wrap("definition "+ref.String(), err)
	}
	return text, nil
}

// Summaries returns a summary of every entity, sorted by canonical ref. It
// reads only indexed columns, never the documents: the drift report and
// the command index read all 100,000 rows of a large catalog at once
// (issue 5: a report in at most a second), so rows are scanned into plain
// strings without reflection, the strings most rows share (kind, namespace,
// source, commit, type, lifecycle, owner) are kept once each, and tags,
// which the parser restricts to [a-z0-9:+#] words joined by '-', are split
// without a JSON decoder.
func (s *Store) Summaries(ctx context.Context) ([]catalog.Summary, error) {
	// Counts (cached per generation, so usually one small query) sizes the
	// result: growing a slice of 100,000 summaries by appending costs more
	// than reading them.
	n := 0
	if c, err := s.Counts(ctx); err == nil {
		for _, k := range c {
			n += k
		}
	}
	// Without ORDER BY both databases read the table in storage order
	// instead of walking the primary key index and fetching each row from
	// it (SQLite: 0.43 s against 0.35 s at 100,000 entities); sorting the
	// refs here costs less.
	sr := summaryReader{in: interner{}, sums: make([]catalog.Summary, 0, n), refs: make([]string, 0, n)}
	if err := s.querySummaries(ctx, &sr, "SELECT "+summaryColumns+" FROM entities", nil); err != nil {
		return nil, s.wrap("summaries", err)
	}
	return sr.sorted(), nil
}

// summaryColumns are the columns summaryReader reads, in its order.
const summaryColumns = "ref, kind, namespace, name, title, description, tags, owner, spec_type, lifecycle, source, path, line, commit_sha"

// summaryReader turns rows of summaryColumns into summaries, for Summaries
// and SummariesOf.
type summaryReader struct {
	in   interner
	sums []catalog.Summary
	refs []string // canonical refs of sums, in the same order
}

// read reads rows to their end.
func (r *summaryReader) read(rows *sql.Rows) error {
	var (
		// Both drivers return TEXT as string, which database/sql assigns
		// to a *string without copying it again.
		ref, kind, namespace, name, title, description, tags, owner string
		typ, lifecycle, source, path, commit                        string
		line                                                        int
	)
	in := r.in
	for rows.Next() {
		if err := rows.Scan(&ref, &kind, &namespace, &name, &title, &description, &tags, &owner,
			&typ, &lifecycle, &source, &path, &line, &commit); err != nil {
			return err
		}
		sum := catalog.Summary{
			Ref:         catalog.Ref{Kind: in.get(kind), Namespace: in.get(namespace), Name: name},
			Title:       title,
			Description: description,
			Owner:       in.get(owner),
			Type:        in.get(typ),
			Lifecycle:   in.get(lifecycle),
			Origin:      catalog.Origin{Source: in.get(source), Path: path, Line: line, Commit: in.get(commit)},
		}
		if tags != "" {
			var err error
			if sum.Tags, err = decodeTags(tags); err != nil {
				return fmt.Errorf("tags of %s: %w", ref, err)
			}
		}
		r.sums = append(r.sums, sum)
		r.refs = append(r.refs, ref)
	}
	return rows.Err()
}

// querySummaries runs q, which selects summaryColumns, into sr.
func (s *Store) querySummaries(ctx context.Context, sr *summaryReader, q string, args []any) error {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	return sr.read(rows)
}

// sorted returns the summaries read, sorted by canonical ref.
func (r *summaryReader) sorted() []catalog.Summary {
	// Refs are unique and both databases compare them bytewise (Postgres
	// through COLLATE "C"), as strings.Compare does.
	order := make([]int32, len(r.refs))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int { return strings.Compare(r.refs[a], r.refs[b]) })
	out := make([]catalog.Summary, len(r.sums))
	for i, j := range order {
		out[i] = r.sums[j]
	}
	return out
}

// interner hands out one string per distinct byte sequence.
type interner map[string]string

func (in interner) get(v string) string {
	if v == "" {
		return ""
	}
	if c, ok := in[v]; ok {
		return c
	}
	in[v] = v
	return v
}

// decodeTags decodes the JSON array of strings the tags column holds.
// Tags without escapes (all valid ones) are split directly; anything else
// goes through encoding/json.
func decodeTags(b string) ([]string, error) {
	if len(b) >= 2 && b[0] == '[' && b[len(b)-1] == ']' && !strings.ContainsAny(b, "\\ \t\r\n") {
		body := b[1 : len(b)-1]
		if len(body) == 0 {
			return []string{}, nil
		}
		out := make([]string, 0, strings.Count(body, ",")+1)
		ok := true
		for part := range strings.SplitSeq(body, ",") {
			if len(part) < 2 || part[0] != '"' || part[len(part)-1] != '"' || strings.IndexByte(part[1:len(part)-1], '"') >= 0 {
				ok = false
				break
			}
			out = append(out, part[1:len(part)-1])
		}
		if ok {
			return out, nil
		}
	}
	var out []string
	err := json.Unmarshal([]byte(b), &out)
	return out, err
}

// Generation returns a number that grows whenever a sync changes entities
// or relations.
func (s *Store) Generation(ctx context.Context) (int64, error) {
	var g int64
	err := s.db.GetContext(ctx, &g, "SELECT value FROM meta WHERE key = 'generation'")
	return g, s.wrap("generation", err)
}

// Counts returns the number of entities per kind, keyed by the kind's
// canonical spelling ("Component"). The counts are cached per generation
// and moved along by this store's own syncs: every sync ends with Counts,
// and counting reads the whole entities table (~150 ms at 100,000
// entities), which 500 sources would otherwise pay 500 times.
func (s *Store) Counts(ctx context.Context) (map[string]int, error) {
	g, err := s.Generation(ctx)
	if err != nil {
		return nil, s.wrap("counts", err)
	}
	s.countsMu.Lock()
	if s.counts != nil && s.countsGen == g {
		out := maps.Clone(s.counts)
		s.countsMu.Unlock()
		return out, nil
	}
	s.countsMu.Unlock()
	out, err := s.countKinds(ctx)
	if err != nil {
		return nil, err
	}
	// A sync committed between reading g and counting makes these counts
	// newer than g; the next call sees a newer generation and counts again.
	s.countsMu.Lock()
	s.counts, s.countsGen = maps.Clone(out), g
	s.countsMu.Unlock()
	return out, nil
}

// countsChanged moves the cached counts from generation gen to gen+1 by
// adding delta, when they are the counts at gen; otherwise (another
// replica synced in between, or nothing is cached) the next Counts counts.
// A sync of 500 sources thus counts once rather than 500 times.
func (s *Store) countsChanged(gen int64, delta map[string]int) {
	s.countsMu.Lock()
	defer s.countsMu.Unlock()
	if s.counts == nil || s.countsGen != gen {
		s.counts = nil
		return
	}
	for k, d := range delta {
		s.counts[k] += d
		if s.counts[k] <= 0 {
			delete(s.counts, k)
		}
	}
	s.countsGen = gen + 1
}

func (s *Store) countKinds(ctx context.Context) (map[string]int, error) {
	var rows []struct {
		Kind string `db:"kind"`
		N    int    `db:"n"`
	}
	if err := s.db.SelectContext(ctx, &rows, "SELECT kind, count(*) AS n FROM entities GROUP BY kind"); err != nil {
		return nil, s.wrap("counts", err)
	}
	out := make(map[string]int, len(rows))
	for _, r := range rows {
		out[r.Kind] += r.N
	}
	return out, nil
}

type sourceRow struct {
	Name       string `db:"name"`
	Repo       string `db:"repo"`
	Branch     string `db:"branch"`
	Commit     string `db:"commit_sha"`
	Status     string `db:"status"`
	Message    string `db:"message"`
	SyncedAt   dbTime `db:"synced_at"`
	CodeOwners string `db:"codeowners"`
}

func (r sourceRow) source() catalog.Source {
	return catalog.Source{Name: r.Name, Repo: r.Repo, Branch: r.Branch, Commit: r.Commit, Status: r.Status,
		Message: r.Message, SyncedAt: r.SyncedAt.Time, CodeOwners: r.CodeOwners}
}

const sourceColumns = "name, repo, branch, commit_sha, status, message, synced_at, codeowners"

// Sources returns every source's sync state, sorted by name.
func (s *Store) Sources(ctx context.Context) ([]catalog.Source, error) {
	var rows []sourceRow
	if err := s.db.SelectContext(ctx, &rows, "SELECT "+sourceColumns+" FROM sources ORDER BY name"); err != nil {
		return nil, s.wrap("sources", err)
	}
	out := make([]catalog.Source, len(rows))
	for i, r := range rows {
		out[i] = r.source()
	}
	return out, nil
}

// Source returns one source's state; the error wraps catalog.ErrNotFound for
// a source never synced.
func (s *Store) Source(ctx context.Context, name string) (catalog.Source, error) {
	var r sourceRow
	if err := s.db.GetContext(ctx, &r, s.db.Rebind("SELECT "+sourceColumns+" FROM sources WHERE name = ?"), name); err != nil {
		return catalog.Source{}, s.wrap("source "+name, err)
	}
	return r.source(), nil
}

// ProcessingErrors returns the current errors of one source, or of all
// when source is "", sorted by source, file and line.
func (s *Store) ProcessingErrors(ctx context.Context, source string) ([]catalog.ProcessingError, error) {
	q := "SELECT source, path, line, message FROM processing_errors"
	var args []any
	if source != "" {
		q += " WHERE source = ?"
		args = append(args, source)
	}
	q += " ORDER BY source, path, line, id"
	var rows []struct {
		Source  string `db:"source"`
		Path    string `db:"path"`
		Line    int    `db:"line"`
		Message string `db:"message"`
	}
	if err := s.db.SelectContext(ctx, &rows, s.db.Rebind(q), args...); err != nil {
		return nil, s.wrap("processing errors", err)
	}
	out := make([]catalog.ProcessingError, len(rows))
	for i, r := range rows {
		out[i] = catalog.ProcessingError{Source: r.Source, Path: r.Path, Line: r.Line, Message: r.Message}
	}
	return out, nil
}

// OwnershipChanges returns owner changes recorded after since, oldest first.
func (s *Store) OwnershipChanges(ctx context.Context, since time.Time) ([]catalog.OwnershipChange, error) {
	var rows []struct {
		Entity string `db:"entity_ref"`
		Old    string `db:"old_owner"`
		New    string `db:"new_owner"`
		Commit string `db:"commit_sha"`
		At     dbTime `db:"recorded_at"`
	}
	err := s.db.SelectContext(ctx, &rows, s.db.Rebind(`SELECT entity_ref, old_owner, new_owner, commit_sha, recorded_at
		FROM ownership_history WHERE recorded_at > ? ORDER BY recorded_at, id`), dbTimeValue(since))
	if err != nil {
		return nil, s.wrap("ownership changes", err)
	}
	out := make([]catalog.OwnershipChange, len(rows))
	for i, r := range rows {
		out[i] = catalog.OwnershipChange{Entity: splitRef(r.Entity), Old: r.Old, New: r.New, Commit: r.Commit, At: r.At.Time}
	}
	return out, nil
}
