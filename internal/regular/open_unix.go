//go:build unix

package regular

import (
	"os"
	"syscall"
)

// openNoFollow opens path for reading without following a final symbolic
// link (ELOOP then) and without waiting on a FIFO.
func openNoFollow(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
}
