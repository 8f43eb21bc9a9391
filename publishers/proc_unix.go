//go:build unix

package publishers

import (
	"os/exec"
	"syscall"
)

// confine runs cmd in its own process group and kills the group on cancel.
func confine(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	cmd.Cancel = func() error {
		// The negative pid is the group: the child and all it started.
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
