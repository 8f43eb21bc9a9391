package checklists

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/charmbracelet/huh"
)

// ErrAborted is returned when the responder interrupts the walk (Ctrl-C,
// Esc, a closed terminal). What was done so far is recorded.
var ErrAborted = errors.New("checklist interrupted; what was done is recorded: run the command again to resume")

// Outcome is what became of one item.
type Outcome struct {
	Item    Item
	Outcome string // done, skipped, entered, noted, published
	Value   string // entered value, or what was published ("update #2")
	Text    string // skip reason or note text
}

// Handler is what the walk needs from its caller.
type Handler interface {
	// Publish runs the compose, preview, confirm and publish of an update
	// (its own forms) and returns what was published ("update #1").
	Publish(ctx context.Context, item Item) (string, error)
	// Record writes an item's outcome to the incident (time and responder
	// are added by the caller).
	Record(ctx context.Context, o Outcome) error
	// Field returns the current value of an incident field, its choices
	// (services, severity), and checks a typed value.
	Field(field string) (current string, choices []Choice, check func(string) error)
}

// Choice is one option of a services or severity input.
type Choice struct{ Label, Value string }

// Pager is implemented by handlers that can page staff, for page items.
// Without it, or with no targets, a page item is asked like a confirm.
type Pager interface {
	// PageTargets lists whom the item may page, its first choice first.
	PageTargets(item Item) []Choice
	// Page pages target with message and says what went out; on an error
	// the walk offers the choice again.
	Page(ctx context.Context, item Item, target, message string) (string, error)
}

// Forms runs huh forms with the walk's input and output settings.
type Forms struct {
	In         io.Reader
	Out        io.Writer
	Accessible bool // ACCESSIBLE=1 or TERM=dumb: plain line-by-line prompts
	Theme      *huh.Theme
}

// Run runs one form, mapping huh's abort to ErrAborted.
func (fs Forms) Run(ctx context.Context, groups ...*huh.Group) error {
	if !fs.Accessible {
		askBackground()
	}
	f := huh.NewForm(groups...).WithAccessible(fs.Accessible).WithShowHelp(!fs.Accessible)
	if fs.In != nil {
		f = f.WithInput(fs.In)
	}
	if fs.Out != nil {
		f = f.WithOutput(fs.Out)
	}
	if fs.Theme != nil {
		f = f.WithTheme(fs.Theme)
	}
	var err error
	if fs.Accessible {
		// huh's accessible prompts block in a read that no context ends:
		// Ctrl-C (which cancels ctx) must not wait for the next Enter.
		done := make(chan error, 1)
		go func() { done <- f.RunWithContext(ctx) }()
		select {
		case err = <-done:
		case <-ctx.Done():
			return ErrAborted
		}
	} else {
		err = f.RunWithContext(ctx)
	}
	if errors.Is(err, huh.ErrUserAborted) || errors.Is(err, huh.ErrTimeout) || (err == nil && ctx.Err() != nil) {
		return ErrAborted
	}
	return err
}

// Walk leads the responder through a checklist, item by item, skipping the
// items in done (a resumed walk). Each outcome is recorded as it happens.
func Walk(ctx context.Context, c *Checklist, done map[string]bool, h Handler, fs Forms) error {
	for i, it := range c.Items {
		if done[it.ID] {
			continue
		}
		header := fmt.Sprintf("Step %d of %d: %s", i+1, len(c.Items), it.Title)
		fmt.Fprintln(out(fs), "\n"+header)
		if it.Description != "" {
			fmt.Fprintln(out(fs), "  "+it.Description)
		}
		o, err := step(ctx, it, h, fs)
		if err != nil {
			return err
		}
		if err := h.Record(ctx, o); err != nil {
			return err
		}
	}
	return nil
}

func out(fs Forms) io.Writer {
	if fs.Out != nil {
		return fs.Out
	}
	return io.Discard
}

func step(ctx context.Context, it Item, h Handler, fs Forms) (Outcome, error) {
	o := Outcome{Item: it}
	switch it.Action {
	case Publish:
		v, err := h.Publish(ctx, it)
		if err != nil {
			return o, err
		}
		o.Outcome, o.Value = "published", v
	case Page:
		if pg, ok := h.(Pager); ok {
			if targets := pg.PageTargets(it); len(targets) > 0 {
				return page(ctx, it, pg, targets, fs)
			}
		}
		fallthrough
	case Confirm:
		choice := "done"
		err := fs.Run(ctx, huh.NewGroup(huh.NewSelect[string]().Title(fs.Hint(it.Title, "Enter: Done")).
			Options(huh.NewOption("Done", "done"), huh.NewOption("Skip (say why)", "skip")).Value(&choice)))
		if err != nil {
			return o, err
		}
		o.Outcome = "done"
		if choice == "skip" {
			o.Outcome = "skipped"
			if err := fs.Run(ctx, huh.NewGroup(huh.NewInput().Title("Why skip it?").Value(&o.Text))); err != nil {
				return o, err
			}
		}
	case Input:
		v, err := input(ctx, it, h, fs)
		if err != nil {
			return o, err
		}
		o.Outcome, o.Value = "entered", v
		if v == "" {
			o.Outcome = "skipped"
		}
	case Note:
		if err := fs.Run(ctx, huh.NewGroup(huh.NewText().Title(fs.Hint(it.Title, "private; Enter skips")).Description("Private: it is never published. Leave empty to skip.").Value(&o.Text))); err != nil {
			return o, err
		}
		o.Text = strings.TrimSpace(o.Text)
		o.Outcome = "noted"
		if o.Text == "" {
			o.Outcome = "skipped"
		}
	}
	return o, nil
}

func input(ctx context.Context, it Item, h Handler, fs Forms) (string, error) {
	current, choices, check := h.Field(it.Field)
	if check == nil {
		check = func(string) error { return nil }
	}
	switch it.Field {
	case "services":
		if len(choices) == 0 {
			v := current
			err := fs.Run(ctx, huh.NewGroup(huh.NewInput().Title(fs.Hint(it.Title, "service ids, comma-separated; "+Keeps(current))).
				Description("Service ids, comma-separated").Value(&v).Validate(func(s string) error {
				if strings.TrimSpace(s) == "" {
					return nil // keeps the value (accessible mode validates the line typed)
				}
				return check(s)
			})))
			if v = strings.TrimSpace(v); v == current {
				return "", err // unchanged
			}
			return v, err
		}
		var v []string
		err := fs.Run(ctx, huh.NewGroup(fs.MultiSelect(it.Title, choices, strings.Split(current, ","), &v)))
		if strings.Join(v, ",") == current {
			return "", err // unchanged
		}
		return strings.Join(v, ","), err
	case "severity":
		v := current
		var opts []huh.Option[string]
		for _, c := range choices {
			opts = append(opts, huh.NewOption(c.Label, c.Value))
		}
		hint := "Enter keeps: " + current
		if current == "" && len(choices) > 0 {
			hint = "Enter picks: " + choices[0].Label // as the TUI's cursor starts there
		}
		err := fs.Run(ctx, huh.NewGroup(huh.NewSelect[string]().Title(fs.Hint(it.Title, hint)).Options(opts...).Value(&v)))
		if v == current {
			return "", err // unchanged
		}
		return v, err
	case "accounts":
		v := current
		err := fs.Run(ctx, huh.NewGroup(huh.NewInput().Title(fs.Hint(it.Title, "a number; "+Keeps(current))).Description("A number; leave as is to skip").Value(&v).
			Validate(func(s string) error {
				s = strings.TrimSpace(s)
				if s == "" {
					return nil
				}
				if n, err := strconv.Atoi(s); err != nil || n < 0 {
					return errors.New("a whole number, like 1200")
				}
				return check(s)
			})))
		v = strings.TrimSpace(v)
		if v == current {
			return "", err
		}
		return v, err
	default: // started_at
		var v string
		err := fs.Run(ctx, huh.NewGroup(huh.NewInput().Title(fs.Hint(it.Title, "like 09:40, 2026-11-27 09:40 or 25m ago; "+Keeps(current))).
			Description("Like 09:40, 2026-11-27 09:40 or 25m ago; currently "+current+". Leave empty to keep it.").
			Value(&v).Validate(func(s string) error {
			if strings.TrimSpace(s) == "" {
				return nil
			}
			return check(strings.TrimSpace(s))
		})))
		return strings.TrimSpace(v), err
	}
}

// page asks whom to page (the targets, "done another way", or skip with a
// reason) and what to tell them, pages, and offers the choice again when
// the page fails.
func page(ctx context.Context, it Item, pg Pager, targets []Choice, fs Forms) (Outcome, error) {
	o := Outcome{Item: it}
	for {
		choice := "page:" + targets[0].Value
		var opts []huh.Option[string]
		for _, t := range targets {
			opts = append(opts, huh.NewOption(t.Label, "page:"+t.Value))
		}
		opts = append(opts, huh.NewOption("Done: I reached them another way", "done"), huh.NewOption("Skip (say why)", "skip"))
		title := "Page whom?"
		if fs.Accessible {
			title += " (Enter pages " + targets[0].Label + ")"
		}
		if err := fs.Run(ctx, huh.NewGroup(huh.NewSelect[string]().Title(title).Options(opts...).Value(&choice))); err != nil {
			return o, err
		}
		switch choice {
		case "done":
			o.Outcome = "done"
			return o, nil
		case "skip":
			o.Outcome = "skipped"
			err := fs.Run(ctx, huh.NewGroup(huh.NewInput().Title("Why skip it?").Value(&o.Text)))
			return o, err
		}
		var msg string
		if err := fs.Run(ctx, huh.NewGroup(huh.NewInput().Title("What to tell them (Enter: just the incident)").Value(&msg))); err != nil {
			return o, err
		}
		msg = strings.TrimSpace(msg)
		v, err := pg.Page(ctx, it, strings.TrimPrefix(choice, "page:"), msg)
		if errors.Is(err, ErrAborted) || ctx.Err() != nil {
			return o, ErrAborted
		}
		if err != nil {
			fmt.Fprintf(out(fs), "  paging failed: %v\n  choose again, or say how you reached them\n", err)
			continue
		}
		o.Outcome, o.Value, o.Text = "paged", v, msg
		return o, nil
	}
}
