package bot

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/catalog/sqlstore"
)

// dbURL picks the database for a one-shot subcommand: the --db flag, else
// PORTALBOT_DB, else the default (sqlite:portalbot.db).
func dbURL(env *Env, flagValue string) string {
	if flagValue != "" {
		return flagValue
	}
	if v := env.getenv("PORTALBOT_DB"); v != "" {
		return v
	}
	return DefaultConfig().DB
}

// openStore opens the database named by the --db flag value (see dbURL)
// and applies pending migrations. The caller closes the store.
func openStore(ctx context.Context, env *Env, flagValue string) (*sqlstore.Store, error) {
	url := dbURL(env, flagValue)
	if err := checkSQLiteDir(url); err != nil {
		return nil, err
	}
	st, err := sqlstore.Open(ctx, url)
	if err != nil {
		// sqlstore names the database in most of its errors; say it once.
		what := "open database"
		if r := sqlstore.Redact(url); !strings.Contains(err.Error(), r) {
			what += " " + r
		}
		if errors.Is(err, catalog.ErrUnavailable) {
			what = "cannot reach the database (is it running? --db or PORTALBOT_DB names it)"
			if r := sqlstore.Redact(url); !strings.Contains(err.Error(), r) {
				what += " " + r
			}
		}
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return st, nil
}

// checkSQLiteDir says plainly when a sqlite:PATH database cannot be
// created or written because of its directory (missing, a file, not
// writable): the driver says only "unable to open database file". Other
// URLs, and file: or in-memory SQLite names, pass unchecked.
func checkSQLiteDir(url string) error {
	path, ok := strings.CutPrefix(url, "sqlite:")
	if !ok || path == "" || strings.HasPrefix(path, "file:") || strings.HasPrefix(path, ":memory:") {
		return nil
	}
	path, _, _ = strings.Cut(path, "?")
	dir := filepath.Dir(path)
	fix := "create it, or point --db (or PORTALBOT_DB, or db: in the config) at sqlite:PATH in a writable directory"
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) && !isFile(dir):
		return fmt.Errorf("open database %s: the directory %s does not exist; %s", url, dir, fix)
	case errors.Is(err, syscall.ENOTDIR) || err == nil && !fi.IsDir():
		return fmt.Errorf("open database %s: %s is not a directory (a file is in the way); %s", url, dir, strings.TrimPrefix(fix, "create it, or "))
	case err != nil:
		return fmt.Errorf("open database %s: %w", url, err)
	}
	// SQLite writes the database, its journal and WAL files beside it.
	f, err := os.CreateTemp(dir, ".portalbot-write-check-*")
	if err != nil {
		return fmt.Errorf("open database %s: the directory %s is not writable (%w); %s", url, dir, err, strings.TrimPrefix(fix, "create it, or "))
	}
	f.Close()
	os.Remove(f.Name())
	return nil
}

func isFile(path string) bool {
	for p := path; p != filepath.Dir(p); p = filepath.Dir(p) {
		if fi, err := os.Stat(p); err == nil {
			return !fi.IsDir()
		}
	}
	return false
}
