// Package sqlstore implements catalog.Store on sqlx: PostgreSQL through
// lib/pq in production, embedded SQLite (pure Go) as the zero-setup default.
package sqlstore

import (
	"context"
	"errors"
)

// Store is the SQL catalog store. (Placeholder until the store lands.)
type Store struct{}

// Open opens the database named by url (postgres://... or sqlite:PATH) and
// applies pending migrations.
func Open(ctx context.Context, url string) (*Store, error) {
	return nil, errors.New("sqlstore: not built yet")
}

// Close closes the database.
func (s *Store) Close() error { return nil }
