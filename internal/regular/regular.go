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
)

// What Refuse says of a file that is not a regular one.
const (
	Symlink = "a symbolic link"
	Special = "not a regular file" // a FIFO, device, socket or folder
)

// Refuse says what is wrong with a file a runbook supplies, Symlink or
// Special, or "" for a regular file. info is the file's own (Lstat, or the
// Stat of a file opened without following a link).
func Refuse(info fs.FileInfo) string {
	switch {
	case info.Mode()&fs.ModeSymlink != 0:
		return Symlink
	case !info.Mode().IsRegular():
		return Special
	}
	return ""
}

// ReadFile reads path when it is a regular file of at most max bytes. A
// symbolic link is never followed and a FIFO never waited on (see open);
// a link, a special file or a larger file is refused. Errors name the file
// and what to do; a missing file is fs.ErrNotExist, as from os.ReadFile.
func ReadFile(path string, max int64) ([]byte, error) {
	f, err := open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if what := Refuse(info); what != "" {
		return nil, refused(path, what)
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

func refused(path, what string) error {
	if what == Symlink {
		return fmt.Errorf("%s is a symbolic link, which incident does not follow in a runbook (a link in a shared runbook could publish any file on this machine): put a copy of the file in its place", path)
	}
	return fmt.Errorf("%s is %s: put a file there, or move it out of the folder", path, what)
}
