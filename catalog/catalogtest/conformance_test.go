package catalogtest_test

import (
	"github.com/portalbot/portalbot/catalog/sqlstore/sqlstoretest"
	"testing"

	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/catalog/catalogtest"
)

func TestSQLiteConformance(t *testing.T) {
	catalogtest.Run(t, func(tb testing.TB) catalog.Store { return sqlstoretest.OpenSQLite(tb) })
}
