//go:build !unix

package regular

import "os"

// openNoFollow opens path for reading; the Lstat before and the Stat after
// refuse a link or a special file.
func openNoFollow(path string) (*os.File, error) {
	return os.Open(path)
}
