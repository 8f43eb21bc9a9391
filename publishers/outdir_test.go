package publishers

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckOutputDir(t *testing.T) {
	rb := t.TempDir()
	records := filepath.Join(rb, "incidents")
	if err := os.MkdirAll(filepath.Join(records, "2026-11-27-x"), 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(rb, link); err != nil {
		t.Fatal(err)
	}
	env := Env{Dir: rb, Records: records}
	for _, tc := range []struct {
		dir, want string // want: part of the error, "" for none
	}{
		{filepath.Join(rb, "site"), ""},
		{filepath.Join(rb, "public", "status"), ""},
		{filepath.Join(rb, "incidents-site"), ""},
		{rb, "is the runbook directory"},
		{rb + "/.", "is the runbook directory"},
		{link, "is the runbook directory"},
		{filepath.Dir(rb), "holds the incident records"},
		{records, "holds the incident records"},
		{filepath.Join(link, "incidents"), "holds the incident records"},
		{filepath.Join(records, "2026-11-27-x"), "is inside the incident records"},
		{filepath.Join(records, "site", "new"), "is inside the incident records"},
	} {
		err := CheckOutputDir("dir", tc.dir, tc.dir, env)
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("CheckOutputDir(%s) = %v, want %q", tc.dir, err, tc.want)
		}
	}
}

func TestHoldsEventFiles(t *testing.T) {
	dir := t.TempDir()
	if got, err := HoldsEventFiles(filepath.Join(dir, "missing")); got || err != nil {
		t.Errorf("missing folder: %v %v", got, err)
	}
	os.MkdirAll(filepath.Join(dir, "site", "incidents"), 0o755)
	os.WriteFile(filepath.Join(dir, "site", "incidents", "x.html"), nil, 0o644)
	if got, err := HoldsEventFiles(filepath.Join(dir, "site")); got || err != nil {
		t.Errorf("pages only: %v %v", got, err)
	}
	os.MkdirAll(filepath.Join(dir, "rec", "2026-11-27-x"), 0o755)
	os.WriteFile(filepath.Join(dir, "rec", "2026-11-27-x", "20261127T101500.000000000Z-opened-abcdef.toml"), nil, 0o644)
	if got, err := HoldsEventFiles(filepath.Join(dir, "rec")); !got || err != nil {
		t.Errorf("records: %v %v", got, err)
	}
}
