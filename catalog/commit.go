package catalog

import "time"

// Commit is one commit of a source's history, as the activity drift rule
// reads it: who wrote it, when, and which files it changed.
type Commit struct {
	Hash string
	// AuthorEmail and AuthorName are the commit's author, as recorded.
	AuthorEmail string
	AuthorName  string
	// At is the author time.
	At time.Time
	// Paths are the slash paths the commit changed (added, modified,
	// removed or renamed from/to), relative to the repository root.
	Paths []string
}
