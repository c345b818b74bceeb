package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/lib/pq"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/portalbot/portalbot/catalog"
)

// wrap translates a driver error into the catalog's sentinels, once, and
// prefixes op: sql.ErrNoRows becomes catalog.ErrNotFound, a unique
// violation catalog.ErrConflict, a lost or refused connection (or a locked
// SQLite file) catalog.ErrUnavailable. The driver error stays in the chain.
func (s *Store) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	switch {
	case errors.Is(err, catalog.ErrNotFound), errors.Is(err, catalog.ErrConflict), errors.Is(err, catalog.ErrUnavailable):
		return fmt.Errorf("%s: %w", op, err)
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("%s: %w", op, catalog.ErrNotFound)
	case isConflict(err):
		return fmt.Errorf("%s: %w: %w", op, catalog.ErrConflict, err)
	case isUnavailable(err):
		return fmt.Errorf("%s: %w: %w", op, catalog.ErrUnavailable, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

func isConflict(err error) bool {
	if e := (*pq.Error)(nil); errors.As(err, &e) {
		return e.Code == "23505" // unique_violation
	}
	if e := (*sqlite.Error)(nil); errors.As(err, &e) {
		return e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

func isUnavailable(err error) bool {
	if errors.Is(err, context.Canceled) {
		return false
	}
	if e := (*pq.Error)(nil); errors.As(err, &e) {
		// Class 08 is connection exception; 57P01-57P03 are admin or
		// crash shutdown and "cannot connect now" (server starting).
		return strings.HasPrefix(string(e.Code), "08") || e.Code == "57P01" || e.Code == "57P02" || e.Code == "57P03" || e.Code == "53300"
	}
	if e := (*sqlite.Error)(nil); errors.As(err, &e) {
		switch e.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_IOERR:
			return true
		}
		return false
	}
	var ne net.Error
	return errors.Is(err, driver.ErrBadConn) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, io.EOF) || errors.As(err, &ne)
}
