//go:build !unix

package runbook

import "errors"

func mkfifo(string) error { return errors.New("not supported") }
