package ingest

import (
	"context"

	"github.com/portalbot/portalbot/catalog"
)

// pipeDepth is how many files a pipe holds between discovery and the
// store's writer: enough to ride out a chunk write (writeChunk entities in
// sqlstore) without stalling discovery for long, few enough that the
// entities waiting stay a small part of a sync's memory.
const pipeDepth = 256

// pipe hands files to a catalog.SyncWriter on a goroutine of its own, in
// the order given, so that the store's encoding and writes overlap
// discovery (reading blobs, parsing) instead of stopping it: issue 19
// measured one core busy of two when they ran in turn. The writer is still
// called from one goroutine at a time, as SyncWriter requires.
type pipe struct {
	files chan catalog.FileResult
	// done is closed when the goroutine has returned; err is its first
	// error, written before done is closed.
	done chan struct{}
	err  error
}

func startPipe(ctx context.Context, add func(context.Context, catalog.FileResult) error) *pipe {
	p := &pipe{files: make(chan catalog.FileResult, pipeDepth), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		for f := range p.files {
			if err := add(ctx, f); err != nil {
				p.err = err
				return
			}
		}
	}()
	return p
}

// add queues f. It returns the writer's error once it has failed, and
// blocks while the pipe is full.
func (p *pipe) add(ctx context.Context, f catalog.FileResult) error {
	select {
	case p.files <- f:
		return nil
	case <-p.done:
		return p.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// wait ends the pipe once the files queued so far are written, and
// returns the writer's error. Only after it returns may the writer be
// committed or rolled back. It must be called exactly once.
func (p *pipe) wait() error {
	close(p.files)
	<-p.done
	return p.err
}
