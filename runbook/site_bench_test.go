package runbook_test

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/incident-cli/incident/internal/benchdata"
	"github.com/incident-cli/incident/publishers/static"
	"github.com/incident-cli/incident/runbook"
)

var siteIncidents = flag.Int("site.n", 300, "incidents (of 10 updates) BenchmarkBuildSite generates")

// siteBench generates the benchmarks' runbook and returns it with its state
// directory and static page.
func siteBench(b *testing.B) (*runbook.Runbook, string, *static.Publisher) {
	b.Helper()
	dir := b.TempDir()
	state := filepath.Join(dir, "state")
	rb, err := benchdata.Runbook(filepath.Join(dir, "rb"), state, nil)
	if err != nil {
		b.Fatal(err)
	}
	if err := benchdata.Generate(rb, *siteIncidents, 10); err != nil {
		b.Fatal(err)
	}
	return rb, state, rb.StatusPage.Pub.(*static.Publisher)
}

// BenchmarkBuildSite builds the static site from a generated runbook as a
// fresh clone does (`incident site build` in a CI job): no state directory,
// no site yet. Profile it with
//
//	go test ./runbook -run '^$' -bench BuildSite -site.n 2000 -cpuprofile cpu.out
//	go tool pprof -top runbook.test cpu.out
func BenchmarkBuildSite(b *testing.B) {
	rb, state, page := siteBench(b)
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		if err := os.RemoveAll(page.Dir()); err != nil {
			b.Fatal(err)
		}
		if err := os.RemoveAll(state); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if n, err := rb.BuildSite(page); err != nil || n != *siteIncidents {
			b.Fatal(n, err)
		}
	}
}

// BenchmarkBuildSiteWarm builds the site again over the last build, the
// records unchanged.
func BenchmarkBuildSiteWarm(b *testing.B) {
	rb, _, page := siteBench(b)
	if _, err := rb.BuildSite(page); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if n, err := rb.BuildSite(page); err != nil || n != *siteIncidents {
			b.Fatal(n, err)
		}
	}
}
