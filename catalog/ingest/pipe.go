package ingest

import (
	"context"

	"golang.org/x/sync/semaphore"

	"github.com/portalbot/portalbot/catalog"
)

// pipeEntities is how many entities a pipe holds between discovery and the
// store's writer. The writer stores entities in chunks (writeChunk, 5,000
// in sqlstore) and takes no file while it writes one: the pipe must hold
// about a chunk so that discovery goes on parsing the next one meanwhile.
// Issue 19: a pipe of 256 files (about 350 entities) filled in a few
// milliseconds and then stalled discovery for the whole write, so reading,
// parsing and writing ran in turn, one core busy of two. A chunk's worth
// waiting costs some 20 MB at most.
const pipeEntities = 6000

// pipe hands files to a catalog.SyncWriter on a goroutine of its own, in
// the order given, so that the store's encoding and writes overlap
// discovery (reading blobs, parsing) instead of stopping it. The writer is
// still called from one goroutine at a time, as SyncWriter requires.
type pipe struct {
	files chan catalog.FileResult
	// room bounds the entities queued, whatever the number of files: a
	// file of 5,000 users weighs as much as 5,000 one-entity files.
	room *semaphore.Weighted
	// failed is closed at the writer's first error, err, written before;
	// the goroutine then drains the files queued, releasing their room.
	// done is closed when the goroutine has returned.
	failed, done chan struct{}
	err          error
}

func startPipe(ctx context.Context, add func(context.Context, catalog.FileResult) error) *pipe {
	// The channel never fills before room does: every file weighs at least 1.
	p := &pipe{
		files: make(chan catalog.FileResult, pipeEntities), room: semaphore.NewWeighted(pipeEntities),
		failed: make(chan struct{}), done: make(chan struct{}),
	}
	go func() {
		defer close(p.done)
		for f := range p.files {
			if p.err == nil {
				if err := add(ctx, f); err != nil {
					p.err = err
					close(p.failed)
				}
			}
			p.room.Release(weight(f))
		}
	}()
	return p
}

// weight is what f counts for in a pipe's room.
func weight(f catalog.FileResult) int64 {
	return int64(min(max(len(f.Entities), 1), pipeEntities))
}

// add queues f. It returns the writer's error once it has failed, and
// blocks while the pipe is full.
func (p *pipe) add(ctx context.Context, f catalog.FileResult) error {
	select {
	case <-p.failed:
		return p.err
	default:
	}
	// A writer that fails while this waits drains what is queued, so the
	// wait ends then too.
	if err := p.room.Acquire(ctx, weight(f)); err != nil {
		return err
	}
	// Room for f means room in the channel: the send cannot block.
	p.files <- f
	return nil
}

// wait ends the pipe once the files queued so far are written, and
// returns the writer's error. Only after it returns may the writer be
// committed or rolled back. It must be called exactly once.
func (p *pipe) wait() error {
	close(p.files)
	<-p.done
	return p.err
}
