//go:build !linux

package runbook

import (
	"io"
	"os"
	"path/filepath"

	"github.com/incident-cli/incident/internal/regular"
)

// eventFileSizes lists the event files of an incident folder, sorted, with
// their sizes (lstat).
func eventFileSizes(dir string) ([]string, []int64, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, err
	}
	var (
		names []string
		sizes []int64
	)
	for _, e := range entries { // sorted by name
		if !isEventFile(e) {
			continue
		}
		info, err := os.Lstat(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, nil, err
		}
		names = append(names, e.Name())
		sizes = append(sizes, info.Size())
	}
	return names, sizes, nil
}

// readLimited reads a small file whole, or its first max+1 bytes when it
// is larger (the caller refuses it then). Only a regular file is read: a
// symlink (which a teammate's commit can carry) is never followed, and a
// FIFO or device is refused before it is opened, which would wait on it.
// (A file swapped for a symlink between the two calls is the residue the
// Linux build closes with O_NOFOLLOW.)
func readLimited(path string, max int) ([]byte, error) {
	info, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	if what := regular.Refuse(info); what != "" {
		return nil, notRegular(path, what)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, int64(max)+1))
}
