// Package checklists holds the phase checklists (open, update, close, rfo):
// embedded defaults, overrides from a runbook's checklists/ directory, their
// validation, and the interactive walk. It knows nothing of the runbook: the
// walk calls back into its caller for the publish step and for recording.
package checklists

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"

	"github.com/BurntSushi/toml"

	"github.com/incident-cli/incident/internal/regular"
)

// maxChecklistFile is the largest checklist file read from a runbook.
const maxChecklistFile = 256 << 10

//go:embed defaults/*.toml
var defaults embed.FS

// Phases are the checklist phases, in lifecycle order.
var Phases = []string{"open", "update", "close", "rfo"}

// Actions an item may have.
const (
	Publish = "publish" // compose, preview, confirm and publish an update
	Confirm = "confirm" // a to-do: done, or skipped with a reason
	Input   = "input"   // ask for a field of the incident
	Note    = "note"    // free text into the private timeline
	// Page pages a colleague (whom, and what to tell them) through the
	// caller's pagers; a caller without pagers asks it like confirm.
	Page = "page"
)

// Fields an input item may ask for.
var Fields = []string{"accounts", "services", "severity", "started_at"}

// Checklist is one phase's list of items.
type Checklist struct {
	Phase  string `toml:"-"`
	Source string `toml:"-"` // the file it came from, for errors
	Items  []Item `toml:"item"`
}

// Item is one step of a checklist.
type Item struct {
	ID          string `toml:"id"`
	Title       string `toml:"title"`
	Description string `toml:"description"`
	Action      string `toml:"action"`
	Field       string `toml:"field"` // input items
	// To is a page item's first choice of whom to page ("phones:oncall",
	// a pager's name, an escalation level); the caller's default when empty.
	To string `toml:"to"`
}

// Defaults returns the embedded default checklists (for init).
func Defaults() fs.FS {
	sub, _ := fs.Sub(defaults, "defaults")
	return sub
}

// Load returns a phase's checklist: dir/PHASE.toml when dir has one, else the
// embedded default. It is validated.
func Load(dir, phase string) (*Checklist, error) {
	if !slices.Contains(Phases, phase) {
		return nil, fmt.Errorf("unknown checklist phase %q", phase)
	}
	name := phase + ".toml"
	var (
		src    []byte
		source string
		err    error
	)
	if dir != "" {
		source = filepath.Join(dir, name)
		src, err = regular.ReadFile(source, maxChecklistFile)
		if errors.Is(err, fs.ErrNotExist) {
			src, err = nil, nil
		}
		if err != nil {
			return nil, err
		}
	}
	if src == nil {
		source = "(built-in) " + name
		src, _ = fs.ReadFile(defaults, "defaults/"+name)
	}
	c := &Checklist{Phase: phase, Source: source}
	md, err := toml.Decode(string(src), c)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", source, err)
	}
	if u := md.Undecoded(); len(u) > 0 {
		return nil, fmt.Errorf("%s: unknown key `%s` (valid: id, title, description, action, field, to)", source, u[0])
	}
	return c, c.Validate()
}

// Validate checks ids, actions and fields. The open checklist's first item
// must publish: customers are informed before anything else.
func (c *Checklist) Validate() error {
	if len(c.Items) == 0 {
		return fmt.Errorf("%s: the checklist has no [[item]]", c.Source)
	}
	seen := map[string]bool{}
	publishes := 0
	for i, it := range c.Items {
		where := fmt.Sprintf("%s: item %d", c.Source, i+1)
		switch {
		case it.ID == "":
			return fmt.Errorf("%s has no id", where)
		case seen[it.ID]:
			return fmt.Errorf("%s: id %q is used twice", where, it.ID)
		case it.Title == "":
			return fmt.Errorf("%s (%s) has no title", where, it.ID)
		}
		seen[it.ID] = true
		switch it.Action {
		case Publish:
			publishes++
		case Confirm, Note, Page:
		case Input:
			if !slices.Contains(Fields, it.Field) {
				return fmt.Errorf("%s (%s): input needs field = one of %v", where, it.ID, Fields)
			}
		default:
			return fmt.Errorf("%s (%s): unknown action %q (use publish, confirm, input, note or page)", where, it.ID, it.Action)
		}
	}
	if c.Phase == "open" && c.Items[0].Action != Publish {
		return fmt.Errorf("%s: the first item of the open checklist must be a publish item: customers are informed first", c.Source)
	}
	if publishes > 1 {
		return fmt.Errorf("%s: only one item may publish", c.Source)
	}
	if c.Phase != "rfo" && publishes == 0 {
		return fmt.Errorf("%s: the checklist has no publish item", c.Source)
	}
	return nil
}
