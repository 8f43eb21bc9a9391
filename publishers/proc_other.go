//go:build !unix

package publishers

import "os/exec"

// confine keeps exec's default cancel (kill the child); WaitDelay, set by
// Confine, bounds the wait for pipes its children hold.
func confine(cmd *exec.Cmd) {}
