//go:build unix

package regular

import (
	"errors"
	"os"
	"syscall"
)

// open opens path for reading without following a final symbolic link
// (the kernel answers ELOOP) and without waiting on a FIFO (O_NONBLOCK);
// ReadFile refuses a special file from its Stat.
func open(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if errors.Is(err, syscall.ELOOP) {
		return nil, refused(path, Symlink)
	}
	return f, err
}
