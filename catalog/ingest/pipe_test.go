package ingest

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portalbot/portalbot/catalog"
)

func filesOf(n, entities int) []catalog.FileResult {
	out := make([]catalog.FileResult, n)
	for i := range out {
		out[i].Entities = make([]*catalog.Entity, entities)
	}
	return out
}

// TestPipeHoldsAChunk: while the writer is busy (a chunk write), discovery
// queues up to pipeEntities entities, whatever the number of files, and
// then waits. Before, the pipe held 256 files and discovery stalled for
// every chunk the store wrote (issue 19).
func TestPipeHoldsAChunk(t *testing.T) {
	release := make(chan struct{})
	var written atomic.Int64
	p := startPipe(context.Background(), func(ctx context.Context, f catalog.FileResult) error {
		<-release
		written.Add(1)
		return nil
	})
	var queued atomic.Int64
	fed := make(chan struct{})
	go func() {
		defer close(fed)
		for _, f := range filesOf(3*pipeEntities, 1) {
			if err := p.add(context.Background(), f); err != nil {
				t.Error(err)
				return
			}
			queued.Add(1)
		}
	}()
	time.Sleep(200 * time.Millisecond)
	n := int(queued.Load())
	// One file is with the blocked writer, pipeEntities wait behind it.
	if n < pipeEntities-1 || n > pipeEntities+1 {
		t.Errorf("discovery queued %d one-entity files while the writer was busy, want about %d", n, pipeEntities)
	}
	close(release)
	<-fed
	if err := p.wait(); err != nil {
		t.Fatal(err)
	}
	if got := written.Load(); got != 3*pipeEntities {
		t.Fatalf("written %d files, want %d", got, 3*pipeEntities)
	}
}

// TestPipeWriterFails: once the writer fails, add returns its error even
// when the pipe was full, and wait returns it too; nothing blocks.
func TestPipeWriterFails(t *testing.T) {
	boom := errors.New("boom")
	var calls atomic.Int64
	p := startPipe(context.Background(), func(ctx context.Context, f catalog.FileResult) error {
		if calls.Add(1) == 3 {
			time.Sleep(50 * time.Millisecond) // discovery fills the pipe meanwhile
			return boom
		}
		return nil
	})
	done := make(chan error, 1)
	go func() {
		for _, f := range filesOf(10, pipeEntities/2) {
			if err := p.add(context.Background(), f); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	select {
	case err := <-done:
		if !errors.Is(err, boom) {
			t.Fatalf("add after the writer failed: %v, want boom", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("add blocked after the writer failed")
	}
	if err := p.wait(); !errors.Is(err, boom) {
		t.Fatalf("wait: %v, want boom", err)
	}
	if calls.Load() != 3 {
		t.Fatalf("writer called %d times, want 3 (none after its error)", calls.Load())
	}
}
