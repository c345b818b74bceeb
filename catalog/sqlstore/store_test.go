package sqlstore_test

import (
	"testing"

	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/catalog/catalogtest"
)

func TestConformance(t *testing.T) {
	for name, open := range catalogtest.Stores() {
		t.Run(name, func(t *testing.T) {
			catalogtest.Run(t, func(tb testing.TB) catalog.Store { return open(tb) })
		})
	}
}
