// Package termquiet keeps the terminal libraries from querying the terminal
// while the program starts, so that a command that never prompts never
// waits for the terminal.
//
// Bubble Tea v1 (under huh) asks the terminal for its background colour in
// its package initialisation, in every process: lipgloss.HasDarkBackground,
// an OSC 11 query on standard output followed by a wait for the answer of
// up to 5 seconds (termenv's OSCTimeout). At a terminal that answers, that
// is a round trip before `incident status` can start (a slow one over SSH);
// at one that does not (a serial console, some editors' shells, a pty with
// nobody behind it), every command takes 5 seconds.
//
// Go initialises packages in import-path order wherever their imports
// allow, and this package imports only os, so it is initialised before
// github.com/muesli/termenv, and so before lipgloss and bubbletea. Its init
// sets TERM=dumb, for which termenv makes no query; Restore, the first
// thing main does, puts TERM back. The forms that do prompt ask for the
// background colour themselves, just before they start
// (checklists.Forms.Run).
package termquiet

import "os"

var (
	term, hadTerm = os.LookupEnv("TERM")
	quieted       bool
)

func init() {
	if hadTerm && term == "dumb" {
		return
	}
	quieted = os.Setenv("TERM", "dumb") == nil
}

// Restore puts TERM back as the environment had it. Call it before
// anything reads TERM or starts a process.
func Restore() {
	if !quieted {
		return
	}
	quieted = false
	if hadTerm {
		os.Setenv("TERM", term)
	} else {
		os.Unsetenv("TERM")
	}
}
