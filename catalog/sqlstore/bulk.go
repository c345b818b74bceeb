package sqlstore

import (
	"context"
	"fmt"
	"iter"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Bulk writes. Postgres gets COPY (one stream per table, no round trip per
// row); SQLite, which runs in-process, gets one prepared statement executed
// per row inside the caller's transaction.

// insertRows inserts rows (each holding one value per column) into table.
func (s *Store) insertRows(ctx context.Context, tx *sqlx.Tx, table string, cols []string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	cleanRows(rows)
	if s.pg() {
		return copyIn(ctx, tx, table, cols, rows)
	}
	q := "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES (?" + strings.Repeat(", ?", len(cols)-1) + ")"
	return execEach(ctx, tx, q, rows)
}

// updateRows updates table from rows keyed by their first column: each row
// sets cols[1:] where cols[0] matches.
func (s *Store) updateRows(ctx context.Context, tx *sqlx.Tx, table string, cols []string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	cleanRows(rows)
	key := cols[0]
	sets := make([]string, 0, len(cols)-1)
	if s.pg() {
		tmp := "tmp_" + table
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("CREATE TEMP TABLE %s ON COMMIT DROP AS SELECT %s FROM %s WITH NO DATA",
			tmp, strings.Join(cols, ", "), table)); err != nil {
			return err
		}
		if err := copyIn(ctx, tx, tmp, cols, rows); err != nil {
			return err
		}
		for _, c := range cols[1:] {
			sets = append(sets, c+" = t."+c)
		}
		_, err := tx.ExecContext(ctx, fmt.Sprintf("UPDATE %s SET %s FROM %s t WHERE %s.%s = t.%s; DROP TABLE %s",
			table, strings.Join(sets, ", "), tmp, table, key, key, tmp))
		return err
	}
	for _, c := range cols[1:] {
		sets = append(sets, c+" = ?")
	}
	q := "UPDATE " + table + " SET " + strings.Join(sets, ", ") + " WHERE " + key + " = ?"
	shifted := make([][]any, len(rows))
	for i, r := range rows {
		shifted[i] = append(append(make([]any, 0, len(r)), r[1:]...), r[0])
	}
	return execEach(ctx, tx, q, shifted)
}

// deleteWhereIn deletes rows of table whose col is one of vals.
func (s *Store) deleteWhereIn(ctx context.Context, tx *sqlx.Tx, table, col string, vals []string) error {
	return s.execWhereIn(ctx, tx, "DELETE FROM "+table+" WHERE "+col, nil, vals)
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

// insertIgnore inserts rows into table, skipping those whose key (the
// first column, unique) is already present.
func (s *Store) insertIgnore(ctx context.Context, tx *sqlx.Tx, table string, cols []string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	cleanRows(rows)
	list := strings.Join(cols, ", ")
	if s.pg() {
		tmp := "tmp_" + table
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("CREATE TEMP TABLE %s ON COMMIT DROP AS SELECT %s FROM %s WITH NO DATA", tmp, list, table)); err != nil {
			return err
		}
		if err := copyIn(ctx, tx, tmp, cols, rows); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, fmt.Sprintf("INSERT INTO %s (%s) SELECT DISTINCT ON (%s) %s FROM %s ON CONFLICT (%s) DO NOTHING; DROP TABLE %s",
			table, list, cols[0], list, tmp, cols[0], tmp))
		return err
	}
	q := "INSERT INTO " + table + " (" + list + ") VALUES (?" + strings.Repeat(", ?", len(cols)-1) + ") ON CONFLICT (" + cols[0] + ") DO NOTHING"
	return execEach(ctx, tx, q, rows)
}

// cleanRows makes every string value storable in both dialects: Postgres
// refuses NUL bytes and invalid UTF-8 in text, and catalog files are
// hostile input. Applying it for SQLite too keeps the dialects identical.
func cleanRows(rows [][]any) {
	for _, r := range rows {
		for i, v := range r {
			if s, ok := v.(string); ok && (strings.IndexByte(s, 0) >= 0 || !utf8.ValidString(s)) {
				r[i] = strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
			}
		}
	}
}

func execEach(ctx context.Context, tx *sqlx.Tx, q string, rows [][]any) error {
	st, err := tx.PrepareContext(ctx, q)
	if err != nil {
		return err
	}
	defer st.Close()
	for _, r := range rows {
		if _, err := st.ExecContext(ctx, r...); err != nil {
			return err
		}
	}
	return nil
}

func copyIn(ctx context.Context, tx *sqlx.Tx, table string, cols []string, rows [][]any) error {
	st, err := tx.PrepareContext(ctx, "COPY "+table+" ("+strings.Join(cols, ", ")+") FROM STDIN")
	if err != nil {
		return err
	}
	defer st.Close()
	for _, r := range rows {
		if _, err := st.ExecContext(ctx, r...); err != nil {
			return err
		}
	}
	_, err = st.ExecContext(ctx)
	return err
}
