package catalog

import (
	"context"
	"errors"
	"strconv"
	"time"
)

// Errors callers branch on, tested with errors.Is.
var (
	ErrNotFound    = errors.New("catalog: not found")
	ErrConflict    = errors.New("catalog: conflict")
	ErrUnavailable = errors.New("catalog: temporarily unavailable")
)

// Query selects entities. Zero fields match everything; string fields
// compare case-insensitively.
type Query struct {
	Kind      string
	Namespace string
	Name      string
	Owner     *Ref
	Refs      []Ref
	// Limit caps the number of results; 0 means no limit.
	Limit int
	// WithDefinitions loads API spec.definition texts, which the store keeps
	// out of line (once per content hash); without it they are left out.
	WithDefinitions bool
	// NoRelations leaves Entity.Relations empty and sets
	// Entity.RelationsOmitted, saving the query that
	// loads them: a Group's inverse ownerOf relations alone number one per
	// entity it owns (about 100,000 for the Groups of a 100,000-entity
	// catalog), which readers such as drift never look at.
	NoRelations bool
}

// Summary is the light view of an entity that the in-memory command index,
// search and drift rules need: no spec beyond the owner, no document.
type Summary struct {
	Ref         Ref
	Title       string
	Description string
	Tags        []string
	Owner       string // canonical owner ref, "" when none
	Type        string // spec.type
	Lifecycle   string // spec.lifecycle
	Origin      Origin
}

// Source is a configured Git source and its sync state.
type Source struct {
	Name       string // unique, e.g. "acme/catalog"
	Repo       string // URL or path as configured
	Branch     string
	Commit     string // last synced commit
	Status     string // "ok", "error"; last error text in Message
	Message    string
	SyncedAt   time.Time
	CodeOwners string // the CODEOWNERS file at Commit, "" when none
}

// ProcessingError is a problem with one file of a source, kept until that
// file is processed cleanly again.
type ProcessingError struct {
	Source  string `json:"source"`
	Path    string `json:"file"`
	Line    int    `json:"line"`
	Message string `json:"message"`
}

// String formats the error as path:line: message.
func (p ProcessingError) String() string {
	if p.Line > 0 {
		return p.Path + ":" + strconv.Itoa(p.Line) + ": " + p.Message
	}
	return p.Path + ": " + p.Message
}

// OwnershipChange records one change of an entity's spec.owner.
type OwnershipChange struct {
	Entity Ref
	Old    string // canonical ref, "" when the entity was new
	New    string // canonical ref, "" when the entity was removed
	Commit string
	At     time.Time
}

// FileResult is the outcome of processing one descriptor file of a source.
type FileResult struct {
	Path string
	// Entities holds the valid entities read from the file, stamped and with
	// their own relations derived.
	Entities []*Entity
	// Errors, when not empty, mean the file could not be processed: the
	// store keeps the file's last good entities and records the errors.
	Errors []ProcessingError
	// Warnings are problems recorded as processing errors of the file that
	// do not block its entities: a Location whose target is missing is
	// stored, and the missing target shown, as Backstage does.
	Warnings []ProcessingError
	// Removed marks a file that no longer exists (partial syncs only).
	Removed bool
	// Documents, optional, holds entities' Document encodings as
	// StampDocument returned them, so that the store writes them without
	// encoding the entities again (issue 19). An entity changed after it
	// was stamped must not be in it; one absent is encoded by the store.
	Documents map[*Entity][]byte
	// Prepared, optional, holds what the store's SyncPreparer made of
	// entities while they were parsed, on the parse workers: the store
	// then writes them without building their rows on its one writing
	// goroutine (issue 19). An entity changed after it was prepared must
	// not be in it; one absent is prepared by the store as it writes.
	Prepared map[*Entity]any
}

// SyncBatch is everything one sync of one source writes.
type SyncBatch struct {
	Source Source
	// Full means Files lists every descriptor file of the source: stored
	// files of the source not listed are removed. When false, only the
	// listed files change.
	Full  bool
	Files []FileResult
}

// SyncResult says what ApplySync changed.
type SyncResult struct {
	Added, Updated, Removed, Unchanged int
	// Errors are the processing errors recorded by this sync, including
	// conflicts with refs that another source already holds.
	Errors []ProcessingError
}

// Store keeps the catalog. Implementations are safe for concurrent use.
type Store interface {
	// Entity returns the entity named by ref, compared case-insensitively,
	// with its stored relations but without an out-of-line spec.definition. The error wraps ErrNotFound if there is none.
	Entity(ctx context.Context, ref Ref) (*Entity, error)
	// Entities returns the entities matching q, sorted by canonical ref.
	Entities(ctx context.Context, q Query) ([]*Entity, error)
	// Relations returns the relations whose source is ref: both those the
	// entity's own fields produce and the inverses others point at it.
	Relations(ctx context.Context, ref Ref) ([]Relation, error)
	// RelationsOfType returns every stored relation of the given type.
	RelationsOfType(ctx context.Context, typ string) ([]Relation, error)
	// Definition returns the stored spec.definition of an API entity. The
	// error wraps ErrNotFound when the entity or its definition is missing.
	Definition(ctx context.Context, ref Ref) (string, error)
	// Summaries returns a summary of every entity, sorted by canonical ref.
	Summaries(ctx context.Context) ([]Summary, error)
	// Generation returns a number that changes whenever a sync changes the
	// catalog, so readers can cache and refresh cheaply.
	Generation(ctx context.Context) (int64, error)
	// Counts returns the number of entities per kind.
	Counts(ctx context.Context) (map[string]int, error)

	// Sources returns every source's sync state.
	Sources(ctx context.Context) ([]Source, error)
	// Source returns one source's state; the error wraps ErrNotFound for a
	// source never synced.
	Source(ctx context.Context, name string) (Source, error)
	// ProcessingErrors returns the current errors of one source, or of all
	// when source is "".
	ProcessingErrors(ctx context.Context, source string) ([]ProcessingError, error)
	// OwnershipChanges returns owner changes recorded after since, oldest first.
	OwnershipChanges(ctx context.Context, since time.Time) ([]OwnershipChange, error)

	// ApplySync writes one sync of one source in a single transaction: on
	// any error nothing changes. A ref already held by another source is
	// not taken over; the conflict is recorded as a processing error.
	ApplySync(ctx context.Context, b SyncBatch) (SyncResult, error)
	// RecordSourceError marks a source as failed (unreachable repo, ...)
	// without touching its entities.
	RecordSourceError(ctx context.Context, src Source, msg string) error
}

// ChangeLog is implemented by a store that records which entities each
// sync changed, so that a reader holding the catalog at one generation
// catches up by reading only those (issue 19: a one-file change reaches
// answers without rereading 100,000 summaries). It must be safe for
// concurrent use.
type ChangeLog interface {
	// Changes returns what changed after generation since: the refs of
	// the entities whose summary, stored document or stored relations
	// (own or inverse) changed, up to the generation the answer reaches.
	// Complete is false when the log does not reach back to since (it was
	// pruned, or a sync changed too many entities to log them one by one):
	// the reader must then read everything.
	Changes(ctx context.Context, since int64) (Changes, error)
	// SummariesOf returns the summaries of those of refs the catalog holds,
	// sorted by canonical ref; refs it does not hold are simply absent.
	SummariesOf(ctx context.Context, refs []Ref) ([]Summary, error)
}

// Changes is a ChangeLog's answer.
type Changes struct {
	// Generation is the store's generation the answer reaches: the
	// reader, once it applied Refs, holds the catalog as of Generation.
	Generation int64
	// Refs are the changed entities, canonical, sorted and unique; those
	// removed are among them (SummariesOf no longer returns them).
	Refs []Ref
	// Complete is false when Refs cannot be trusted to be every change
	// after since; Refs is then empty.
	Complete bool
}

// SyncStreamer is implemented by stores that take a full sync file by file,
// so that a sync never holds every parsed entity at once. BeginSync starts
// the sync of src (its Name is required; its Commit is the fallback for
// entities without an Origin.Commit) in one transaction, which the
// returned writer owns until Commit or Rollback.
type SyncStreamer interface {
	BeginSync(ctx context.Context, src Source) (SyncWriter, error)
}

// SyncPreparer is implemented by a store that can do part of writing an
// entity ahead, in parallel, as each is parsed: Prepare gets a stamped
// entity and its Document (FileResult.Documents) and returns what goes in
// FileResult.Prepared, or nil when it has nothing to prepare. It must be
// safe for concurrent use and depend on nothing but its arguments.
type SyncPreparer interface {
	Prepare(e *Entity, doc []byte) any
}

// SyncWriter writes one sync of one source as files arrive. It is not safe
// for concurrent use. Files are taken in the order given, with
// ApplySync's rules: a file with Errors keeps its last good entities, and
// of two files emitting one ref the first delivered keeps it (an entity
// already stored keeps its stored file when both emit it).
type SyncWriter interface {
	// Add writes, or queues for writing, one file's entities.
	Add(ctx context.Context, f FileResult) error
	// Commit finishes the sync and commits it, recording src as the
	// source's state. With full set, stored entities of files never added
	// are removed; otherwise only those of added files may be. After an
	// error nothing has changed.
	Commit(ctx context.Context, src Source, full bool) (SyncResult, error)
	// Rollback abandons the sync; it is a no-op after Commit.
	Rollback()
}
