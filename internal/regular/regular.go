// Package regular reads files a shared runbook supplies (templates,
// checklists) only when they are regular files. git carries symbolic
// links: a teammate's commit can make templates/update.tmpl a link to a key
// or a password file on the responder's laptop, whose text would then be
// rendered into a public update. A FIFO or device would block the read or
// never end it.
package regular

import (
	"fmt"
	"io"
	"io/fs"
	"os"
)

// ReadFile reads path when it is a regular file of at most max bytes. A
// symbolic link is never followed; a FIFO, device or folder is refused
// before it is opened; a larger file is refused. Errors name the file and
// what to do; a missing file is fs.ErrNotExist, as from os.ReadFile.
func ReadFile(path string, max int64) ([]byte, error) {
	info, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	if err := check(path, info); err != nil {
		return nil, err
	}
	f, err := openNoFollow(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// The file may have been swapped since Lstat: check what was opened.
	if info, err = f.Stat(); err != nil {
		return nil, err
	}
	if err := check(path, info); err != nil {
		return nil, err
	}
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s is larger than %d KiB, which no runbook file should be: shorten it", path, max>>10)
	}
	return b, nil
}

func check(path string, info fs.FileInfo) error {
	switch {
	case info.Mode()&fs.ModeSymlink != 0:
		return fmt.Errorf("%s is a symbolic link, which incident does not follow in a runbook (a link in a shared runbook could publish any file on this machine): put a copy of the file in its place", path)
	case !info.Mode().IsRegular():
		return fmt.Errorf("%s is not a regular file: put a file there, or move it out of the folder", path)
	}
	return nil
}
