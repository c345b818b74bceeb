package catalog

import (
	"encoding/json"
	"testing"
)

var mdDoc = []byte(`{"name":"payments-api","namespace":"default","title":"Payments API","description":"Takes payments from the web shop and the mobile apps","labels":{"tier":"1","team":"payments"},"annotations":{"backstage.io/techdocs-ref":"dir:.","github.com/project-slug":"acme/payments-api","pagerduty.com/service-id":"P123456","backstage.io/source-location":"url:https://git.example.com/acme/payments-api/"},"tags":["go","payments","pci"],"links":[{"url":"https://dash.example.com/payments","title":"Dashboard","icon":"dashboard"}],"uid":"1234","etag":"abcd"}`)

// BenchmarkMetadataUnmarshal decodes a typical metadata block, as every
// entity read from the store does.
func BenchmarkMetadataUnmarshal(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		var m Metadata
		if err := json.Unmarshal(mdDoc, &m); err != nil {
			b.Fatal(err)
		}
	}
}
