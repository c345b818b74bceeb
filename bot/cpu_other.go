//go:build !unix

package bot

import "time"

var processStart = time.Now()

// processCPU stands in for the process's CPU time where getrusage is
// missing: the wall time since start, which the bench's single-goroutine
// measurements approach.
func processCPU() time.Duration { return time.Since(processStart) }
