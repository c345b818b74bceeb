package bot

import (
	"time"

	"github.com/robfig/cron/v3"
)

// scheduleTick names the scheduled run that fires at now, the same on every
// replica, so that replicas claim it once between them (job_runs). For a
// cron spec it is the minute, the finest field a five-field spec has; for
// "@every D" it is now truncated to D, counted from the zero time, because
// each replica's @every timer starts when that replica does and their
// firings do not line up. A spec that does not parse gives the minute.
func scheduleTick(spec string, now time.Time) time.Time {
	now = now.UTC()
	if s, err := cronParser.Parse(spec); err == nil {
		if d, ok := s.(cron.ConstantDelaySchedule); ok && d.Delay > 0 {
			return now.Truncate(d.Delay)
		}
	}
	return now.Truncate(time.Minute)
}
