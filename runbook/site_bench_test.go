package runbook_test

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/incident-cli/incident/internal/benchdata"
	"github.com/incident-cli/incident/publishers/static"
)

var siteIncidents = flag.Int("site.n", 300, "incidents (of 10 updates) BenchmarkBuildSite generates")

// BenchmarkBuildSite builds the static site from a generated runbook as a
// fresh clone does: no cache in the state directory, no site yet. Profile it
// with
//
//	go test ./runbook -run '^$' -bench BuildSite -site.n 2000 -cpuprofile cpu.out
//	go tool pprof -top runbook.test cpu.out
func BenchmarkBuildSite(b *testing.B) {
	dir := b.TempDir()
	rb, err := benchdata.Runbook(filepath.Join(dir, "rb"), filepath.Join(dir, "state"), nil)
	if err != nil {
		b.Fatal(err)
	}
	if err := benchdata.Generate(rb, *siteIncidents, 10); err != nil {
		b.Fatal(err)
	}
	page := rb.StatusPage.Pub.(*static.Publisher)
	rb.Store.CacheDir = "" // a fresh clone has no cache
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		if err := os.RemoveAll(page.Dir()); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if n, err := rb.BuildSite(page); err != nil || n != *siteIncidents {
			b.Fatal(n, err)
		}
	}
}
