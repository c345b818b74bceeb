package catalog_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/portalbot/portalbot/catalog"
)

func benchParse(b *testing.B, in string) {
	b.Helper()
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		catalog.Parse(strings.NewReader(in), "bench.yaml")
	}
}

// BenchmarkParseShop parses a typical multi-document descriptor file.
func BenchmarkParseShop(b *testing.B) {
	src, err := os.ReadFile("testdata/valid/shop.yaml")
	if err != nil {
		b.Fatal(err)
	}
	benchParse(b, string(src))
}

// BenchmarkParseLargeFile parses a legitimate file just under MaxFileSize.
func BenchmarkParseLargeFile(b *testing.B) {
	var sb strings.Builder
	for n := 0; sb.Len() < catalog.MaxFileSize-1000; n++ {
		fmt.Fprintf(&sb, "---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: svc-%d\n  tags: [go, web]\nspec:\n  type: service\n  lifecycle: production\n  owner: team-%d\n  dependsOn: ['resource:db-%d']\n", n, n%50, n)
	}
	benchParse(b, sb.String())
}

// BenchmarkParseWorstDocument parses one document just under
// MaxDocumentValues, the most expensive shape the limits let through.
func BenchmarkParseWorstDocument(b *testing.B) {
	in := "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {name: g}\nspec:\n  type: team\n  children: []\n  x: [" + strings.Repeat("a,", catalog.MaxDocumentValues/2-20) + "]\n"
	benchParse(b, in)
}

// BenchmarkParseAliasBomb parses the alias bomb fixture.
func BenchmarkParseAliasBomb(b *testing.B) {
	src, err := os.ReadFile("testdata/broken/alias-bomb.yaml")
	if err != nil {
		b.Fatal(err)
	}
	benchParse(b, string(src))
}
