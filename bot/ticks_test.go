package bot

import (
	"testing"
	"time"
)

func TestScheduleTick(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tt := range []struct {
		spec, now, want string
	}{
		{"*/5 * * * *", "2026-03-02T09:05:00.004Z", "2026-03-02T09:05:00Z"},
		{"0 9 * * 1", "2026-03-02T09:00:59.9Z", "2026-03-02T09:00:00Z"},
		{"CRON_TZ=Europe/Paris 0 9 * * 1", "2026-03-02T08:00:00.2Z", "2026-03-02T08:00:00Z"},
		{"@every 2s", "2026-03-02T09:00:03.999Z", "2026-03-02T09:00:02Z"},
		{"@every 2s", "2026-03-02T09:00:04.001Z", "2026-03-02T09:00:04Z"},
		{"@every 1h", "2026-03-02T09:59:00Z", "2026-03-02T09:00:00Z"},
		{"@hourly", "2026-03-02T10:00:00.5Z", "2026-03-02T10:00:00Z"},
		{"not a spec", "2026-03-02T10:00:30Z", "2026-03-02T10:00:00Z"},
	} {
		if got := scheduleTick(tt.spec, at(tt.now)); !got.Equal(at(tt.want)) {
			t.Errorf("scheduleTick(%q, %s) = %s, want %s", tt.spec, tt.now, got.Format(time.RFC3339Nano), tt.want)
		}
	}
	// Two replicas whose @every timers are out of phase claim the same tick
	// when they fire within one period.
	a, b := at("2026-03-02T09:00:02.100Z"), at("2026-03-02T09:00:03.900Z")
	if ta, tb := scheduleTick("@every 2s", a), scheduleTick("@every 2s", b); !ta.Equal(tb) {
		t.Errorf("replicas firing at %s and %s got ticks %s and %s, want one", a, b, ta, tb)
	}
}
