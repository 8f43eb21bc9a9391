package runbook

import (
	"syscall"
	"time"
)

func statusChange(st *syscall.Stat_t) time.Time {
	return time.Unix(int64(st.Ctim.Sec), int64(st.Ctim.Nsec))
}
