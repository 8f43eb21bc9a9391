package runbook

import (
	"syscall"
	"time"
)

func statusChange(st *syscall.Stat_t) time.Time {
	return time.Unix(int64(st.Ctimespec.Sec), int64(st.Ctimespec.Nsec))
}
