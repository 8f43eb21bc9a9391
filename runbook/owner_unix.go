//go:build unix

package runbook

import (
	"os"
	"syscall"
)

// owner returns the uid owning fi and this process's effective uid; ok is
// false where the platform has no owners.
func owner(fi os.FileInfo) (uid, me int, ok bool) {
	st, isUnix := fi.Sys().(*syscall.Stat_t)
	if !isUnix {
		return 0, 0, false
	}
	return int(st.Uid), os.Geteuid(), true
}
