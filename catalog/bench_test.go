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

// benchEntities parses the shop fixture: every built-in kind, with labels,
// annotations, tags and links, as each entity of a sync is.
func benchEntities(b *testing.B) []*catalog.Entity {
	b.Helper()
	src, err := os.ReadFile("testdata/valid/shop.yaml")
	if err != nil {
		b.Fatal(err)
	}
	res := catalog.ParseFile(strings.NewReader(string(src)), "shop.yaml")
	if len(res.Errors) > 0 || len(res.Entities) == 0 {
		b.Fatalf("ParseFile(shop.yaml) = %d entities, errors %v", len(res.Entities), res.Errors)
	}
	return res.Entities
}

// BenchmarkValidate validates each entity of the shop fixture once per op,
// as ParseFile does for every document of a sync.
func BenchmarkValidate(b *testing.B) {
	es := benchEntities(b)
	b.ReportAllocs()
	for b.Loop() {
		for _, e := range es {
			if err := e.Validate(); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkStampDocument stamps each entity of the shop fixture once per
// op, as ParseFile does for every valid entity of a sync.
func BenchmarkStampDocument(b *testing.B) {
	es := benchEntities(b)
	b.ReportAllocs()
	for b.Loop() {
		for _, e := range es {
			if _, err := e.StampDocument(); err != nil {
				b.Fatal(err)
			}
		}
	}
}
