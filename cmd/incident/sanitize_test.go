package main

import (
	"bytes"
	"testing"
)

func TestClean(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"plain", "IMAP logins fail: 401 Unauthorized", "IMAP logins fail: 401 Unauthorized"},
		{"newline and tab kept", "a\n\tb", "a\n\tb"},
		{"unicode kept", "Störung — 障害 🚨", "Störung — 障害 🚨"},
		{"OSC title with BEL", "x\x1b]0;pwned\x07y", "xy"},
		{"OSC with ST", "x\x1b]8;;https://evil\x1b\\link\x1b]8;;\x1b\\y", "xlinky"},
		{"CSI clear and colour", "\x1b[2J\x1b[1;31mred\x1b[0m", "red"},
		{"DCS", "a\x1bPq#0;2;0;0;0\x1b\\b", "ab"},
		{"ESC and one character", "a\x1bcb", "ab"},
		{"unterminated CSI", "a\x1b[12", "a"},
		{"lone ESC", "a\x1b", "a"},
		{"C0 controls", "a\rb\x08c\x07d\x00e\x7f", "abcde"},
		{"C1 controls", "a\u009b2Jb\u0085c", "a2Jbc"},
		{"bidi overrides and isolates", "evil\u202etxt.exe\u2066x\u2069", "eviltxt.exex"},
		{"invalid UTF-8", "a\x9b[2Jb", "a\uFFFD[2Jb"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := clean(tc.in); got != tc.want {
				t.Errorf("clean(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestLine(t *testing.T) {
	if got := line("failed\n✓ blog: all channels delivered\t\r\n"); got != "failed ✓ blog: all channels delivered" {
		t.Errorf("line = %q", got)
	}
}

func TestTerminalWriter(t *testing.T) {
	var b bytes.Buffer
	w := terminalWriter{&b}
	in := []byte("ok \x1b]0;x\x07done\n")
	if n, err := w.Write(in); err != nil || n != len(in) {
		t.Fatalf("Write = %d, %v", n, err)
	}
	if b.String() != "ok done\n" {
		t.Errorf("wrote %q", b.String())
	}
}
