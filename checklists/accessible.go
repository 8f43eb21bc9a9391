package checklists

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/charmbracelet/huh"
)

// Hint returns a field's title with what an empty line does, in accessible
// mode, where huh shows a prompt's title only (neither its description nor
// its value): "Estimate accounts affected (Enter keeps: 1200)". In the TUI,
// where both are on screen, it returns the title as it is.
func (fs Forms) Hint(title, hint string) string {
	if !fs.Accessible || hint == "" {
		return title
	}
	return title + " (" + hint + ")"
}

// Keeps is the hint of a field whose empty line keeps its value (or skips
// the question when it has none).
func Keeps(value string) string {
	if strings.TrimSpace(value) == "" {
		return "Enter skips"
	}
	return "Enter keeps: " + value
}

// MultiSelect returns a field picking any number of choices, those whose
// values are in selected picked at first, into value. In the TUI it is
// huh's multi-select, where Enter takes the selection shown. huh's
// accessible one answers an empty line with "Invalid: must be a number" and
// asks again, forever; in accessible mode this field asks line by line
// instead: a number picks or drops that choice, and an empty line keeps the
// selection shown, as Enter does in the TUI. The prompt says so.
func (fs Forms) MultiSelect(title string, choices []Choice, selected []string, value *[]string) huh.Field {
	var opts []huh.Option[string]
	for _, c := range choices {
		opts = append(opts, huh.NewOption(c.Label, c.Value).Selected(slices.Contains(selected, c.Value)))
	}
	ms := huh.NewMultiSelect[string]().Title(title).Options(opts...).Value(value)
	if !fs.Accessible {
		return ms.Description("space to select, enter to go on")
	}
	m := &accessibleMultiSelect{MultiSelect: ms, title: title, choices: choices, value: value}
	for _, c := range choices {
		m.picked = append(m.picked, slices.Contains(selected, c.Value))
	}
	return m
}

// accessibleMultiSelect is huh's multi-select with its own accessible
// prompt (huh's form calls WithAccessible(true).RunAccessible).
type accessibleMultiSelect struct {
	*huh.MultiSelect[string]
	title   string
	choices []Choice
	picked  []bool
	value   *[]string
}

func (m *accessibleMultiSelect) WithAccessible(bool) huh.Field { return m }

func (m *accessibleMultiSelect) RunAccessible(w io.Writer, r io.Reader) error {
	fmt.Fprintln(w, m.title)
	for {
		var names []string
		for i, c := range m.choices {
			mark := "[ ]"
			if m.picked[i] {
				mark = "[x]"
				names = append(names, c.Label)
			}
			fmt.Fprintf(w, "  %d. %s %s\n", i+1, mark, c.Label)
		}
		keep := "none"
		if len(names) > 0 {
			keep = strings.Join(names, ", ")
		}
		fmt.Fprintf(w, "Type a number to pick or drop one; Enter alone keeps this selection (%s): ", keep)
		line, ok := readLine(r)
		line = strings.TrimSpace(line)
		if !ok || line == "" || line == "0" { // 0: huh's "confirm selection"
			if !ok {
				fmt.Fprintln(w)
			}
			break
		}
		n, err := strconv.Atoi(line)
		if err != nil || n < 1 || n > len(m.choices) {
			fmt.Fprintf(w, "Invalid: type a number from 1 to %d, or nothing to keep this selection\n", len(m.choices))
			continue
		}
		m.picked[n-1] = !m.picked[n-1]
	}
	v := []string{}
	for i, c := range m.choices {
		if m.picked[i] {
			v = append(v, c.Value)
		}
	}
	*m.value = v
	return nil
}

// readLine reads one line from r a byte at a time, so that nothing meant
// for the next prompt is read ahead. ok is false at the end of the input
// with nothing read.
func readLine(r io.Reader) (string, bool) {
	var b strings.Builder
	buf := make([]byte, 1)
	for {
		n, err := r.Read(buf)
		if n == 1 {
			if buf[0] == '\n' {
				return strings.TrimSuffix(b.String(), "\r"), true
			}
			b.WriteByte(buf[0])
		}
		if err != nil {
			return b.String(), b.Len() > 0
		}
	}
}
