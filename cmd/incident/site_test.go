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
	srv := httptest.NewServer(previewHandler(dir))
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

// TestPreviewHandler: `incident site serve` serves the site's pages to
// localhost only, never a dotfile, never a folder listing.
func TestPreviewHandler(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"index.html":            "<h1>status</h1>",
		"feed.atom":             "<feed/>",
		"incidents/x.html":      "<p>incident</p>",
		"history/index.html":    "<p>history</p>",
		".git/config":           "[remote \"origin\"]\nurl = https://bot:ghp_token@git.example.com/site.git\n",
		"incidents/.build-1/y":  "staging",
		"incidents/.hidden.txt": "hidden",
	} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	h := previewHandler(dir)
	for _, tc := range []struct {
		host, path string
		want       int
	}{
		{"127.0.0.1:8080", "/", 200},
		{"localhost:8080", "/feed.atom", 200},
		{"LOCALHOST", "/incidents/x.html", 200},
		{"[::1]:8080", "/history/", 200},
		{"127.0.0.1:8080", "/history", 301}, // to history/, as http.FileServer does
		{"127.0.0.1:8080", "/.git/config", 404},
		{"127.0.0.1:8080", "/.git/", 404},
		{"127.0.0.1:8080", "/%2egit/config", 404},
		{"127.0.0.1:8080", "/incidents/../.git/config", 404},
		{"127.0.0.1:8080", "/incidents/.hidden.txt", 404},
		{"127.0.0.1:8080", "/incidents/.build-1/y", 404},
		{"127.0.0.1:8080", "/incidents/", 404}, // a folder without index.html: no listing
		{"127.0.0.1:8080", "/missing.html", 404},
		{"evil.example:8080", "/", 403},
		{"evil.example", "/index.html", 403},
		{"127.0.0.1.evil.example:8080", "/", 403},
		{"10.0.0.5:8080", "/", 403},
		{"", "/", 403},
	} {
		req := httptest.NewRequest(http.MethodGet, "http://x"+tc.path, nil)
		req.Host = tc.host
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tc.want {
			t.Errorf("GET %s (Host %q) = %d, want %d", tc.path, tc.host, rec.Code, tc.want)
		}
	}
}
