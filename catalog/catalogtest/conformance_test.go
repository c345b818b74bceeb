package catalogtest_test

import (
	"testing"

	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/catalog/catalogtest"
)

func TestSQLiteConformance(t *testing.T) {
	catalogtest.Run(t, func(tb testing.TB) catalog.Store { return catalogtest.SQLite(tb) })
}
