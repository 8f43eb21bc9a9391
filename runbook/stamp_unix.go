//go:build linux || darwin

package runbook

import (
	"hash/fnv"
	"io/fs"
	"syscall"
	"time"
)

// folderStamp summarises a folder's metadata for the summary caches: its
// modification time, its status-change time and its inode. Restoring a
// folder with cp -a or rsync -a, or unpacking a backup, keeps the
// modification time but always changes the status-change time (no tool can
// set it) or the inode, so the cache sees the change. It returns the
// stamp's time part too, for cacheStamp: the modification time, which
// every change by this tool or git moves to now (the status-change time
// cannot be set back, so a test or a restore could never age it).
func folderStamp(fi fs.FileInfo) (stamp int64, newest time.Time) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fi.ModTime().UnixNano(), fi.ModTime()
	}
	ctime := statusChange(st)
	h := fnv.New64a()
	var b [8 * 4]byte
	for i, v := range []uint64{uint64(fi.ModTime().UnixNano()), uint64(ctime.UnixNano()), uint64(st.Ino), uint64(st.Dev)} {
		for j := range 8 {
			b[i*8+j] = byte(v >> (8 * j))
		}
	}
	h.Write(b[:])
	return int64(h.Sum64() &^ (1 << 63)), fi.ModTime()
}
