package checklists

import (
	"os"
	"sync"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

var background sync.Once

// askBackground asks the terminal for its background colour, once, before
// the first form with colours starts: the program does not ask when it
// starts (see internal/termquiet), so that commands that never prompt
// never wait for the terminal. The forms' adaptive colours read the
// answer. It asks on standard output, as lipgloss does by default.
func askBackground() {
	background.Do(func() {
		lipgloss.SetHasDarkBackground(termenv.NewOutput(os.Stdout).HasDarkBackground())
	})
}
