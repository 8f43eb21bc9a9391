package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
)

// TestServeHidesDotfiles: `site serve` never serves the site's lock or a
// build's staging folder.
func TestServeHidesDotfiles(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "index.html"), []byte("<p>status</p>"), 0o644)
	os.WriteFile(filepath.Join(dir, ".lock"), nil, 0o644)
	os.MkdirAll(filepath.Join(dir, ".build-1", "incidents"), 0o755)
	os.WriteFile(filepath.Join(dir, ".build-1", "incidents", "x.html"), []byte("half built"), 0o644)
	srv := httptest.NewServer(noDotfiles(http.FileServer(http.Dir(dir))))
	defer srv.Close()
	for path, want := range map[string]int{"/index.html": 200, "/.lock": 404, "/.build-1/incidents/x.html": 404, "/incidents/../.lock": 404} {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		req.URL.Opaque = path // as sent, not cleaned by the client
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", path, resp.StatusCode, want)
		}
	}
}
