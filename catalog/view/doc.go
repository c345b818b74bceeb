// Package view is the in-memory read model of the catalog: a Snapshot of
// every entity's summary, indexed by ref, name, title, owner and words
// (with typo-tolerant matching), patched with what changed (or rebuilt)
// when the store's generation changes, and a cache of the full entities
// recently read. A Snapshot
// carries its own staleness: Cached and Age say when it is served from
// memory because the store did not answer. The chat commands and the
// template pickers read it.
//
// It reads the catalog only through catalog.Store, so it knows neither
// the store's implementation (never catalog/sqlstore) nor who reads it:
// it never imports commands, scaffolder, adapters/… or a chat SDK, and it
// renders nothing.
package view
