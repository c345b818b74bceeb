package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"iter"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Bulk writes. Postgres gets COPY, driven on the driver connection itself
// so that a row costs an append to a buffer rather than a trip through
// database/sql; SQLite, which runs in-process, gets prepared statements
// executed per row, prepared once per transaction.

// writer performs the bulk writes of one transaction.
type writer struct {
	s    *Store
	conn *sqlx.Conn
	tx   *sqlx.Tx
	// stmts caches SQLite prepared statements by query; closed by close.
	stmts map[string]*sql.Stmt
	// staged lists, in order, the Postgres temp tables filled by update and
	// insertIgnore, applied by flush.
	staged []stagedTable
	// kinds is the change in the number of entities per kind this sync
	// makes; gen is the generation it started from, read when bumped.
	kinds  map[string]int
	gen    int64
	bumped bool
	// writeLocked is set once the transaction holds the sync write lock
	// (lockWrites).
	writeLocked bool
	// others caches othersHold's answer.
	others *bool
	// log is what the sync wrote to the change log (changelog.go).
	log changeLog
}

type stagedTable struct {
	table  string
	cols   []string
	ignore bool // insertIgnore rather than update
}

func (w *writer) close() {
	for _, st := range w.stmts {
		st.Close()
	}
}

// insert inserts rows (each holding one value per column) into table.
func (w *writer) insert(ctx context.Context, table string, cols []string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	cleanRows(rows)
	if w.s.pg() {
		return w.copyIn(table, cols, rows)
	}
	return w.execEach(ctx, "INSERT INTO "+table+" ("+strings.Join(cols, ", ")+") VALUES (?"+strings.Repeat(", ?", len(cols)-1)+")", rows)
}

// update updates table from rows keyed by their first column: each row sets
// cols[1:] where cols[0] matches. On Postgres the rows are staged and
// applied by flush.
func (w *writer) update(ctx context.Context, table string, cols []string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	cleanRows(rows)
	if w.s.pg() {
		return w.stage(ctx, table, cols, false, rows)
	}
	sets := make([]string, 0, len(cols)-1)
	for _, c := range cols[1:] {
		sets = append(sets, c+" = ?")
	}
	shifted := make([][]any, len(rows))
	for i, r := range rows {
		shifted[i] = append(append(make([]any, 0, len(r)), r[1:]...), r[0])
	}
	return w.execEach(ctx, "UPDATE "+table+" SET "+strings.Join(sets, ", ")+" WHERE "+cols[0]+" = ?", shifted)
}

// insertIgnore inserts rows into table, skipping those whose key (the first
// column, unique) is already present. On Postgres the rows are staged and
// applied by flush.
func (w *writer) insertIgnore(ctx context.Context, table string, cols []string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	cleanRows(rows)
	if w.s.pg() {
		return w.stage(ctx, table, cols, true, rows)
	}
	return w.execEach(ctx, "INSERT INTO "+table+" ("+strings.Join(cols, ", ")+") VALUES (?"+
		strings.Repeat(", ?", len(cols)-1)+") ON CONFLICT ("+cols[0]+") DO NOTHING", rows)
}

func (w *writer) stage(ctx context.Context, table string, cols []string, ignore bool, rows [][]any) error {
	tmp := "tmp_" + table
	if !slices.ContainsFunc(w.staged, func(t stagedTable) bool { return t.table == table }) {
		if _, err := w.tx.ExecContext(ctx, fmt.Sprintf("CREATE TEMP TABLE %s ON COMMIT DROP AS SELECT %s FROM %s WITH NO DATA",
			tmp, strings.Join(cols, ", "), table)); err != nil {
			return err
		}
		w.staged = append(w.staged, stagedTable{table: table, cols: cols, ignore: ignore})
	}
	return w.copyIn(tmp, cols, rows)
}

// flush applies what update and insertIgnore staged.
func (w *writer) flush(ctx context.Context) error {
	for _, t := range w.staged {
		tmp, key, list := "tmp_"+t.table, t.cols[0], strings.Join(t.cols, ", ")
		var q string
		if t.ignore {
			q = fmt.Sprintf("INSERT INTO %s (%s) SELECT DISTINCT ON (%s) %s FROM %s ON CONFLICT (%s) DO NOTHING",
				t.table, list, key, list, tmp, key)
		} else {
			sets := make([]string, 0, len(t.cols)-1)
			for _, c := range t.cols[1:] {
				sets = append(sets, c+" = t."+c)
			}
			q = fmt.Sprintf("UPDATE %s SET %s FROM %s t WHERE %s.%s = t.%s", t.table, strings.Join(sets, ", "), tmp, t.table, key, key)
		}
		if _, err := w.tx.ExecContext(ctx, q+"; DROP TABLE "+tmp); err != nil {
			return err
		}
	}
	w.staged = nil
	return nil
}

func (w *writer) execEach(ctx context.Context, q string, rows [][]any) error {
	st := w.stmts[q]
	if st == nil {
		var err error
		if st, err = w.tx.PrepareContext(ctx, q); err != nil {
			return err
		}
		if w.stmts == nil {
			w.stmts = map[string]*sql.Stmt{}
		}
		w.stmts[q] = st
	}
	for _, r := range rows {
		if _, err := st.ExecContext(ctx, r...); err != nil {
			return err
		}
	}
	return nil
}

// copyIn streams rows into table with COPY on the transaction's driver
// connection. Values must be driver values (string, int64, nil).
func (w *writer) copyIn(table string, cols []string, rows [][]any) error {
	return w.conn.Raw(func(dc any) error {
		c, ok := dc.(driver.Conn)
		if !ok {
			return fmt.Errorf("copy %s: driver connection is %T", table, dc)
		}
		st, err := c.Prepare("COPY " + table + " (" + strings.Join(cols, ", ") + ") FROM STDIN")
		if err != nil {
			return err
		}
		defer st.Close()
		vals := make([]driver.Value, len(cols))
		for _, r := range rows {
			for i, v := range r {
				vals[i] = v
			}
			//lint:ignore SA1019 lib/pq's COPY statement implements only Exec.
			if _, err := st.Exec(vals); err != nil {
				return err
			}
		}
		//lint:ignore SA1019 an Exec without values ends the COPY.
		_, err = st.Exec(nil)
		return err
	})
}

// deleteWhereIn deletes rows of table whose col is one of vals.
func (s *Store) deleteWhereIn(ctx context.Context, tx *sqlx.Tx, table, col string, vals []string) error {
	return s.execWhereIn(ctx, tx, "DELETE FROM "+table+" WHERE "+col, nil, vals)
}

// deleteRelationsOf deletes the relations that the entities named by
// origins produced: their forward rows, keyed by source_ref.
func (s *Store) deleteRelationsOf(ctx context.Context, tx *sqlx.Tx, origins []string) error {
	return s.execWhereIn(ctx, tx, "DELETE FROM relations WHERE source_ref", nil, origins)
}

// execWhereIn runs query, which has "?" placeholders for args and ends in a
// column name, with a test that the column is one of vals appended.
func (s *Store) execWhereIn(ctx context.Context, tx *sqlx.Tx, query string, args []any, vals []string) error {
	for q, a := range s.whereIn(query, args, vals) {
		if _, err := tx.ExecContext(ctx, q, a...); err != nil {
			return err
		}
	}
	return nil
}

// selectWhereIn is execWhereIn for a query, calling scan for each row.
func (s *Store) selectWhereIn(ctx context.Context, tx *sqlx.Tx, query string, args []any, vals []string, scan func(*sqlx.Rows) error) error {
	for q, a := range s.whereIn(query, args, vals) {
		if err := selectRows(ctx, tx, q, a, scan); err != nil {
			return err
		}
	}
	return nil
}

func selectRows(ctx context.Context, tx *sqlx.Tx, q string, args []any, scan func(*sqlx.Rows) error) error {
	rows, err := tx.QueryxContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// whereIn yields the statements that test query's trailing column against
// vals: one "= ANY(array)" on Postgres, chunks of "IN (?, ...)" on SQLite,
// which limits bound parameters per statement. It yields nothing for no vals.
func (s *Store) whereIn(query string, args []any, vals []string) iter.Seq2[string, []any] {
	return func(yield func(string, []any) bool) {
		if len(vals) == 0 {
			return
		}
		if s.pg() {
			yield(sqlx.Rebind(sqlx.DOLLAR, query+" = ANY(?)"), append(slices.Clip(args), pq.Array(vals)))
			return
		}
		const chunk = 500
		for len(vals) > 0 {
			n := min(chunk, len(vals))
			a := append(make([]any, 0, len(args)+n), args...)
			for _, v := range vals[:n] {
				a = append(a, v)
			}
			if !yield(query+" IN (?"+strings.Repeat(", ?", n-1)+")", a) {
				return
			}
			vals = vals[n:]
		}
	}
}

// cleanRows makes every string value storable in both dialects: Postgres
// refuses NUL bytes and invalid UTF-8 in text, and catalog files are
// hostile input. Applying it for SQLite too keeps the dialects identical.
func cleanRows(rows [][]any) {
	for _, r := range rows {
		for i, v := range r {
			// Assigned only when changed: storing a string in an any
			// allocates, for every value of every row.
			if s, ok := v.(string); ok && unclean(s) {
				r[i] = cleanString(s)
			}
		}
	}
}

// cleanString is s as cleanRows stores it.
func cleanString(s string) string {
	if unclean(s) {
		return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
	}
	return s
}

func unclean(s string) bool { return strings.IndexByte(s, 0) >= 0 || !utf8.ValidString(s) }
