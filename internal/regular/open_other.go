//go:build !unix

package regular

import "os"

// open opens path for reading once Lstat shows a regular file: opening a
// link would follow it, and opening a FIFO would wait on it.
func open(path string) (*os.File, error) {
	info, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	if what := Refuse(info); what != "" {
		return nil, refused(path, what)
	}
	return os.Open(path)
}
