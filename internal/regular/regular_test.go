//go:build unix

package regular

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(t.TempDir(), "credentials")
	if err := os.WriteFile(secret, []byte("SECRET-7d1e"), 0o600); err != nil {
		t.Fatal(err)
	}
	plain := filepath.Join(dir, "update.tmpl")
	if err := os.WriteFile(plain, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := ReadFile(plain, 1<<10); err != nil || string(b) != "hello" {
		t.Errorf("a regular file: %q, %v", b, err)
	}
	if _, err := ReadFile(plain, 3); err == nil || !strings.Contains(err.Error(), plain) || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("a file over the limit: %v", err)
	}
	if _, err := ReadFile(filepath.Join(dir, "missing.tmpl"), 1<<10); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a missing file: %v, want fs.ErrNotExist", err)
	}
	link := filepath.Join(dir, "link.tmpl")
	if err := os.Symlink(secret, link); err != nil {
		t.Skipf("no symlinks here: %v", err)
	}
	b, err := ReadFile(link, 1<<10)
	if err == nil || !strings.Contains(err.Error(), link) || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("a symlink: %q, %v; want an error naming it", b, err)
	}
	if strings.Contains(string(b), "SECRET") || (err != nil && strings.Contains(err.Error(), "SECRET")) {
		t.Errorf("the link's target was read: %q, %v", b, err)
	}
	if _, err := ReadFile(dir, 1<<10); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("a folder: %v", err)
	}
	fifo := filepath.Join(dir, "fifo.tmpl")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("no FIFOs here: %v", err)
	}
	done := make(chan error, 1)
	go func() { _, err := ReadFile(fifo, 1<<10); done <- err }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("a FIFO: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("reading a FIFO blocked")
	}
}
