package runbook

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/incident-cli/incident/templates"
)

// TestLazyTemplates: with LazyTemplates (status, list), a runbook whose
// template does not parse still opens, and the template is reported, with
// its file, by the first render; without it Open reports it.
func TestLazyTemplates(t *testing.T) {
	dir := t.TempDir()
	if _, err := Init(dir, false); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "templates", templates.TitleFile)
	if err := os.WriteFile(bad, []byte("{{ if .Incident }}"), 0o644); err != nil {
		t.Fatal(err)
	}
	loc := Location{Dir: dir}
	opt := Options{Getenv: func(string) string { return "" }, StateDir: t.TempDir()}
	if _, err := Open(loc, opt); err == nil || !strings.Contains(err.Error(), bad) {
		t.Fatalf("Open: err = %v, want the template named", err)
	}
	opt.LazyTemplates = true
	rb, err := Open(loc, opt)
	if err != nil {
		t.Fatalf("Open with LazyTemplates: %v", err)
	}
	if _, err := rb.OpenSummaries(); err != nil {
		t.Fatal(err)
	}
	if _, err := rb.Templates.Render(templates.StatusFile, &templates.Data{}); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("first render: err = %v, want the template named", err)
	}
}
