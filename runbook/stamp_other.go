//go:build !linux && !darwin

package runbook

import (
	"io/fs"
	"time"
)

// folderStamp summarises a folder's metadata for the summary caches; where
// the system has no status-change time it is the modification time.
func folderStamp(fi fs.FileInfo) (stamp int64, newest time.Time) {
	return fi.ModTime().UnixNano(), fi.ModTime()
}
