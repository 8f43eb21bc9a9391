package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/incident-cli/incident/pagers/webhook/webhooktest"
	"github.com/incident-cli/incident/runbook"
)

// terminal runs the real binary in a pseudo-terminal, as a responder would.
type terminal struct {
	t    *testing.T
	pty  *os.File
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  bytes.Buffer
	seen int // how much of out has been matched
	keys int // keystrokes sent (a typed text counts as its characters, Enter as one)
	done chan struct{}
}

var ansi = regexp.MustCompile(`\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>]|\x1b\][^\x07]*\x07`)

func startTerminal(t *testing.T, env []string, args ...string) *terminal {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(env, "INCIDENT_TEST_MAIN=1")
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 50, Cols: 120})
	if err != nil {
		t.Fatal(err)
	}
	term := &terminal{t: t, pty: f, cmd: cmd, done: make(chan struct{})}
	go func() {
		defer close(term.done)
		buf := make([]byte, 4096)
		for {
			n, err := f.Read(buf)
			chunk := buf[:n]
			// Answer what a terminal answers: the background colour
			// (OSC 11) and the cursor position (DSR), which termenv asks
			// for and would otherwise wait seconds for.
			if bytes.Contains(chunk, []byte("\x1b]11;?")) {
				f.WriteString("\x1b]11;rgb:0000/0000/0000\x1b\\")
			}
			if bytes.Contains(chunk, []byte("\x1b[6n")) {
				f.WriteString("\x1b[1;1R")
			}
			term.mu.Lock()
			term.out.Write(chunk)
			term.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() { f.Close(); _ = cmd.Process.Kill() })
	return term
}

// waitFor waits until the screen output (escape codes removed) shows re
// after what was already matched.
func (term *terminal) waitFor(re string) {
	term.t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		term.mu.Lock()
		text := ansi.ReplaceAllString(term.out.String(), "")
		term.mu.Unlock()
		if loc := rx.FindStringIndex(text[min(term.seen, len(text)):]); loc != nil {
			term.seen += loc[1]
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	term.mu.Lock()
	defer term.mu.Unlock()
	term.t.Fatalf("timed out waiting for %q; the screen showed:\n%s", re, ansi.ReplaceAllString(term.out.String(), ""))
}

func (term *terminal) typeText(s string) {
	term.keys += len([]rune(s))
	term.pty.WriteString(s)
}

func (term *terminal) enter() {
	term.keys++
	term.pty.WriteString("\r")
	time.Sleep(50 * time.Millisecond) // let the form move its focus
}

func (term *terminal) wait() int {
	select {
	case <-term.done:
	case <-time.After(15 * time.Second):
		term.t.Fatal("the command did not exit")
	}
	_ = term.cmd.Wait()
	return term.cmd.ProcessState.ExitCode()
}

// TestOpenAtTerminal runs `incident open` in a pseudo-terminal with the full
// TUI, types a title and accepts every default: the update must be published
// with at most 5 keystrokes after the title. Then Ctrl-C interrupts the rest
// of the checklist, and running open again resumes at step 2.
func TestOpenAtTerminal(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary in a terminal")
	}
	work := t.TempDir()
	rb := filepath.Join(work, "rb")
	if _, err := runbook.Init(rb, false); err != nil {
		t.Fatal(err)
	}
	env := []string{"HOME=" + work, "XDG_STATE_HOME=" + filepath.Join(work, "state"), "XDG_DATA_HOME=" + filepath.Join(work, "data"),
		"XDG_CONFIG_HOME=" + filepath.Join(work, "config"), "INCIDENT_RUNBOOK=" + rb, "TERM=xterm-256color", "USER=alice",
		"PATH=" + os.Getenv("PATH"), "TZ=UTC"}

	term := startTerminal(t, env, "open")
	term.waitFor(`Step 1 of 6: Inform customers`)
	term.waitFor(`Title`)
	term.typeText("IMAP/POP login failures")
	titleKeys := term.keys
	term.enter() // title -> services
	term.waitFor(`Affected services`)
	term.enter() // services (none picked) -> next form
	term.waitFor(`We are investigating problems`)
	term.enter() // the pre-filled message -> accounts
	term.waitFor(`Accounts affected`)
	term.enter() // accounts (empty) -> preview and confirm
	term.waitFor(`Publish to status page\?`)
	term.enter() // Publish
	term.waitFor(`✓ status page: file://`)
	after := term.keys - titleKeys
	t.Logf("published after the title plus %d keystrokes", after)
	if after > 5 {
		t.Errorf("%d keystrokes after the title, want at most 5", after)
	}
	term.waitFor(`Step 2 of 6: Call the on-call colleague`)
	term.pty.WriteString("\x03") // Ctrl-C
	if code := term.wait(); code != 130 {
		t.Errorf("exit code after Ctrl-C = %d, want 130", code)
	}

	loc := runbook.Location{Dir: rb}
	book, err := runbook.Open(loc, runbook.Options{Getenv: func(k string) string {
		for _, e := range env {
			if v, ok := strings.CutPrefix(e, k+"="); ok {
				return v
			}
		}
		return ""
	}})
	if err != nil {
		t.Fatal(err)
	}
	sums, _ := book.Summaries()
	if len(sums) != 1 || sums[0].Updates != 1 || sums[0].Undelivered != 0 {
		t.Fatalf("summaries = %+v", sums)
	}
	inc, _ := book.Store.Load(sums[0].ID)
	if len(inc.Steps) != 1 || inc.Steps[0].Step != "inform-customers" || inc.Steps[0].Outcome != "published" || inc.Steps[0].By != "alice" {
		t.Fatalf("steps = %+v", inc.Steps)
	}

	// Running open again offers to resume the unfinished checklist.
	term = startTerminal(t, env, "open")
	term.waitFor(`open checklist of .* is unfinished`)
	term.enter() // Resume
	term.waitFor(`Step 2 of 6: Call the on-call colleague`)
	term.enter() // Done
	term.waitFor(`Step 3 of 6`)
	term.pty.WriteString("\x03")
	term.wait()
	inc, _ = book.Store.Load(sums[0].ID)
	if len(inc.Steps) != 2 || inc.Steps[1].Step != "escalate" || inc.Steps[1].Outcome != "done" || inc.Steps[1].Run != inc.Steps[0].Run {
		t.Fatalf("after resume, steps = %+v", inc.Steps)
	}
	if len(inc.PublicUpdates()) != 1 {
		t.Errorf("resume published again: %d updates", len(inc.PublicUpdates()))
	}
}

// TestCloseRFOAccessible closes an incident at a screen-reader terminal
// (ACCESSIBLE=1: plain line-by-line prompts) and writes the RFO in the same
// session: close --rfo.
func TestCloseRFOAccessible(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary in a terminal")
	}
	work := t.TempDir()
	rb := filepath.Join(work, "rb")
	if _, err := runbook.Init(rb, false); err != nil {
		t.Fatal(err)
	}
	env := []string{"HOME=" + work, "XDG_STATE_HOME=" + filepath.Join(work, "state"), "INCIDENT_RUNBOOK=" + rb,
		"TERM=xterm", "ACCESSIBLE=1", "USER=bob", "PATH=" + os.Getenv("PATH"), "TZ=UTC"}
	open := exec.Command(os.Args[0], "open", "--title", "IMAP/POP login failures", "--service", "imap", "--message", "We are investigating.", "--yes")
	open.Env = append(env, "INCIDENT_TEST_MAIN=1")
	if out, err := open.CombinedOutput(); err != nil {
		t.Fatalf("open: %v\n%s", err, out)
	}

	term := startTerminal(t, env, "close", "--rfo")
	line := func(prompt, answer string) {
		t.Helper()
		term.waitFor(prompt)
		term.pty.WriteString(answer + "\r")
	}
	line(`Step 1 of 3: Verify the fix.*\n(?s:.*)Enter a number between 1 and 2:`, "1")
	line(`Message \(Enter keeps: .*work normally again`, "")
	line(`Publish to status page\? \[Y/n\]`, "y")
	term.waitFor(`✓ status page: file://`)
	line(`Step 3 of 3: Schedule the RFO(?s:.*)Enter a number between 1 and 2:`, "1")
	line(`Step 1 of 2: Review the timeline(?s:.*)Enter a number between 1 and 2:`, "1")
	line(`Summary`, "IMAP and POP logins failed for an hour.")
	line(`Impact`, "")
	line(`Root cause`, "A brute-force attack exhausted the IMAP workers.")
	line(`What we did`, "We blocked the attacking network.")
	line(`What we are changing`, "Per-network connection limits.")
	line(`Timeline \(Enter keeps`, "")
	line(`Publish the RFO\? \[Y/n\]`, "y")
	term.waitFor(`Reason For Outage of`)
	if code := term.wait(); code != 0 {
		t.Fatalf("exit %d; the screen showed:\n%s", code, ansi.ReplaceAllString(term.out.String(), ""))
	}
	pages, _ := filepath.Glob(filepath.Join(rb, "site", "incidents", "*-rfo.html"))
	if len(pages) != 1 {
		t.Fatalf("RFO pages: %v", pages)
	}
	b, _ := os.ReadFile(pages[0])
	for _, want := range []string{"IMAP and POP logins failed for an hour.", "A brute-force attack exhausted", "The problem began.|We opened an incident.", "How we communicated"} {
		if !regexp.MustCompile(want).Match(b) {
			t.Errorf("the RFO page lacks %q", want)
		}
	}
}

// TestUpdateWalkKilledAfterPublishing: an update walk is killed after its
// update went out and before its step was recorded. Running update again
// resumes the walk past the publish step: it never offers to publish the
// same update again.
func TestUpdateWalkKilledAfterPublishing(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary in a terminal")
	}
	work := t.TempDir()
	dir := filepath.Join(work, "rb")
	if _, err := runbook.Init(dir, false); err != nil {
		t.Fatal(err)
	}
	env := []string{"HOME=" + work, "XDG_STATE_HOME=" + filepath.Join(work, "state"), "INCIDENT_RUNBOOK=" + dir,
		"TERM=xterm", "ACCESSIBLE=1", "USER=bob", "PATH=" + os.Getenv("PATH"), "TZ=UTC"}
	book, err := runbook.Open(runbook.Location{Dir: dir}, runbook.Options{Getenv: func(string) string { return "" }, StateDir: filepath.Join(work, "st")})
	if err != nil {
		t.Fatal(err)
	}
	res, err := book.Publish(t.Context(), "", runbook.Draft{Via: "open", Title: "IMAP/POP login failures", Services: []string{"imap"},
		Status: runbook.Investigating, Message: "We are investigating."}, runbook.PublishOptions{})
	if err != nil {
		t.Fatal(err)
	}
	id := res.Incident.ID
	// What the killed walk left: its update, and no step.
	if _, err := book.Publish(t.Context(), id, runbook.Draft{Via: "update", Status: runbook.Identified, Message: "Found it.",
		Phase: "update", Step: "post-update", Run: "r-killed"}, runbook.PublishOptions{}); err != nil {
		t.Fatal(err)
	}
	term := startTerminal(t, env, "update", id)
	term.waitFor(`resuming the unfinished update checklist of .* \(1 of 3 steps done\)`)
	term.waitFor(`Step 2 of 3: Accounts affected`)
	term.pty.WriteString("\r")
	term.waitFor(`Step 3 of 3`)
	term.pty.WriteString("\r")
	if code := term.wait(); code != 0 {
		t.Fatalf("exit %d; the screen showed:\n%s", code, ansi.ReplaceAllString(term.out.String(), ""))
	}
	if strings.Contains(term.out.String(), "Publish to") {
		t.Errorf("the resumed walk offered to publish again:\n%s", ansi.ReplaceAllString(term.out.String(), ""))
	}
	inc, _ := book.Store.Load(id)
	if n := len(inc.PublicUpdates()); n != 2 {
		t.Errorf("%d updates, want 2", n)
	}
}

// TestUpdateStatesAccessible publishes an update at a screen-reader
// terminal: each affected service's state is a numbered choice whose prompt
// says what Enter keeps; an empty Enter keeps it (the severity's default),
// a number picks another state, and both are recorded on the update.
func TestUpdateStatesAccessible(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary in a terminal")
	}
	work := t.TempDir()
	rb := filepath.Join(work, "rb")
	if _, err := runbook.Init(rb, false); err != nil {
		t.Fatal(err)
	}
	env := []string{"HOME=" + work, "XDG_STATE_HOME=" + filepath.Join(work, "state"), "INCIDENT_RUNBOOK=" + rb,
		"TERM=xterm", "ACCESSIBLE=1", "USER=bob", "PATH=" + os.Getenv("PATH"), "TZ=UTC"}
	open := exec.Command(os.Args[0], "open", "--title", "Mail delays", "--service", "imap", "--service", "smtp",
		"--severity", "minor", "--message", "We are investigating.", "--yes")
	open.Env = append(env, "INCIDENT_TEST_MAIN=1")
	if out, err := open.CombinedOutput(); err != nil {
		t.Fatalf("open: %v\n%s", err, out)
	}

	term := startTerminal(t, env, "update")
	line := func(prompt, answer string) {
		t.Helper()
		term.waitFor(prompt)
		term.pty.WriteString(answer + "\r")
	}
	line(`Status(?s:.*)Enter a number between 1 and 3:`, "2")
	line(`IMAP/POP: state \(Enter keeps: Degraded performance\)(?s:.*)4\. Major outage(?s:.*)Enter a number between 1 and 5:`, "4")
	line(`Outgoing mail \(SMTP\): state \(Enter keeps: Degraded performance\)(?s:.*)Enter a number between 1 and 5:`, "")
	line(`Message \(Enter keeps: `, "IMAP is down; SMTP is slow.")
	line(`Publish to status page\? \[Y/n\]`, "y")
	term.waitFor(`✓ status page: file://`)
	line(`Step 2 of 3: Accounts affected(?s:.*)Accounts affected`, "")
	line(`Step 3 of 3: Note what was tried(?s:.*)Note what was tried`, "")
	if code := term.wait(); code != 0 {
		t.Fatalf("exit %d; the screen showed:\n%s", code, ansi.ReplaceAllString(term.out.String(), ""))
	}

	book, err := runbook.Open(runbook.Location{Dir: rb}, runbook.Options{StateDir: filepath.Join(work, "state2")})
	if err != nil {
		t.Fatal(err)
	}
	sums, _ := book.Summaries()
	inc, _ := book.Store.Load(sums[0].ID)
	u := inc.Updates[len(inc.Updates)-1]
	if u.Number != 2 || u.Event.Status != runbook.Identified || u.Event.States["imap"] != runbook.MajorOutage || u.Event.States["smtp"] != runbook.DegradedPerformance {
		t.Errorf("update #%d %s, states %v", u.Number, u.Event.Status, u.Event.States)
	}
}

// TestOpenTakesOverTriggered: monitoring already opened a triggered
// incident. `incident open` at a terminal offers it first, with title,
// services and start from the alert and the route's message prefilled: at
// most 3 keystrokes from `incident open` to the published [Investigating].
func TestOpenTakesOverTriggered(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary in a terminal")
	}
	work := t.TempDir()
	dir := filepath.Join(work, "rb")
	if _, err := runbook.Init(dir, false); err != nil {
		t.Fatal(err)
	}
	cfg, _ := os.ReadFile(filepath.Join(dir, "incident.toml"))
	route := "\n[[alerts.route]]\nsource = \"nodeping\"\nmatch = \"IMAP*\"\nservice = \"imap\"\nseverity = \"major\"\ntitle = \"IMAP/POP connection problems\"\n"
	if err := os.WriteFile(filepath.Join(dir, "incident.toml"), append(cfg, route...), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"HOME=" + work, "XDG_STATE_HOME=" + filepath.Join(work, "state"), "XDG_DATA_HOME=" + filepath.Join(work, "data"),
		"XDG_CONFIG_HOME=" + filepath.Join(work, "config"), "INCIDENT_RUNBOOK=" + dir, "TERM=xterm-256color", "USER=alice",
		"PATH=" + os.Getenv("PATH"), "TZ=UTC"}
	alert := exec.Command(os.Args[0], "alert", "--source", "nodeping")
	alert.Env = append(env, "INCIDENT_TEST_MAIN=1")
	alert.Stdin = strings.NewReader(`{"event": "DOWN", "id": "201205050153W2Q4C-K", "label": "IMAP check", "target": "imap.example.com"}`)
	if out, err := alert.CombinedOutput(); err != nil {
		t.Fatalf("alert: %v\n%s", err, out)
	}

	term := startTerminal(t, env, "open")
	term.waitFor(`Monitoring opened this`)
	term.waitFor(`IMAP/POP connection problems \(nodeping: IMAP check, since \d\d:\d\d, auto-post in 10 min\)`)
	term.enter() // take it over
	term.waitFor(`our monitoring detected them at`)
	term.enter() // the route's message
	term.waitFor(`Publish to status page\?`)
	term.enter() // Publish
	term.waitFor(`✓ status page: file://`)
	t.Logf("published after %d keystrokes", term.keys)
	if term.keys > 3 {
		t.Errorf("%d keystrokes from `incident open` to the published update, want at most 3", term.keys)
	}
	term.waitFor(`Step 2 of`)
	term.pty.WriteString("\x03")
	term.wait()

	book, err := runbook.Open(runbook.Location{Dir: dir}, runbook.Options{Getenv: func(string) string { return "" }, StateDir: filepath.Join(work, "st")})
	if err != nil {
		t.Fatal(err)
	}
	sums, _ := book.Summaries()
	if len(sums) != 1 {
		t.Fatalf("%d incidents, want the one the alert opened", len(sums))
	}
	inc, _ := book.Store.Load(sums[0].ID)
	if inc.Status != runbook.Investigating || len(inc.PublicUpdates()) != 1 || !inc.Acked() || inc.Services[0] != "imap" || inc.PublicUpdates()[0].Event.By != "alice" {
		t.Fatalf("after the takeover: %s, %d updates, acked %v, services %v", inc.Status, len(inc.PublicUpdates()), inc.Acked(), inc.Services)
	}
}

// TestOpenAccessible runs `incident open` at a screen-reader terminal
// (ACCESSIBLE=1: plain line-by-line prompts), counting keystrokes. Accepting
// every default publishes after the title plus 5 keystrokes, as in the TUI:
// the services picker takes an empty Enter as "keep this selection" (huh's
// own accessible picker refuses it forever), and says so. Every later
// prompt of the checklist takes an empty Enter too. Then, with a service
// given and an incident on it resolved days ago, Enter keeps the picked
// service and the walk asks whether the new incident recurs that one.
func TestOpenAccessible(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary in a terminal")
	}
	work := t.TempDir()
	rb := filepath.Join(work, "rb")
	if _, err := runbook.Init(rb, false); err != nil {
		t.Fatal(err)
	}
	env := []string{"HOME=" + work, "XDG_STATE_HOME=" + filepath.Join(work, "state"), "INCIDENT_RUNBOOK=" + rb,
		"TERM=xterm", "ACCESSIBLE=1", "USER=carol", "PATH=" + os.Getenv("PATH"), "TZ=UTC"}

	term := startTerminal(t, env, "open")
	term.waitFor(`Step 1 of 6: Inform customers`)
	term.waitFor(`Title`)
	term.typeText("Webmail is slow")
	titleKeys := term.keys
	term.enter()
	term.waitFor(`  1\. \[ \] IMAP/POP\r?\n`)
	term.waitFor(`Type a number to pick or drop one; Enter alone keeps this selection \(none\): `)
	term.enter() // keep: no service
	term.waitFor(`Message \(Enter keeps: .*investigating`)
	term.enter()
	term.waitFor(`Accounts affected \(optional estimate\) \(Enter skips\)`)
	term.enter()
	term.waitFor(`Publish to status page\? \[Y/n\]`)
	term.enter()
	term.waitFor(`✓ status page: file://`)
	after := term.keys - titleKeys
	t.Logf("accessible: published after the title plus %d keystrokes", after)
	if after > 5 {
		t.Errorf("%d keystrokes after the title, want at most 5", after)
	}
	// The rest of the checklist: an empty Enter at each prompt.
	for _, prompt := range []string{`Call the on-call colleague \(Enter: Done\)`, `Check monitoring \(Enter: Done\)`,
		`When did the problem begin\? \(like 09:40, .*; Enter keeps: .*\)`, `Estimate accounts affected \(a number; Enter skips\)`,
		`Note the first findings \(private; Enter skips\)`} {
		term.waitFor(prompt)
		term.enter()
	}
	if code := term.wait(); code != 0 {
		t.Fatalf("exit %d; the screen showed:\n%s", code, ansi.ReplaceAllString(term.out.String(), ""))
	}
	if out := ansi.ReplaceAllString(term.out.String(), ""); strings.Contains(out, "Invalid") {
		t.Errorf("a prompt refused an empty Enter:\n%s", out)
	}

	// An earlier incident on IMAP/POP, resolved: the walk asks about it.
	incident := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(os.Args[0], args...)
		cmd.Env = append(env, "INCIDENT_TEST_MAIN=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	m := regexp.MustCompile(`incidents/(\S+)\.html`).FindStringSubmatch(incident("open", "--title", "IMAP/POP login failures",
		"--service", "imap", "--message", "We are investigating.", "--yes"))
	if m == nil {
		t.Fatal("open printed no URL")
	}
	first := m[1]
	incident("close", first, "--message", "Logins work again.", "--yes")
	book, err := runbook.Open(runbook.Location{Dir: rb}, runbook.Options{Getenv: func(string) string { return "" }, StateDir: filepath.Join(work, "check")})
	if err != nil {
		t.Fatal(err)
	}
	term = startTerminal(t, env, "open", "--service", "imap")
	term.waitFor(`Title`)
	term.typeText("IMAP logins fail again")
	titleKeys = term.keys
	term.enter()
	term.waitFor(`  1\. \[x\] IMAP/POP\r?\n`)
	term.waitFor(`Enter alone keeps this selection \(IMAP/POP\): `)
	term.enter() // keep the shown default
	term.waitFor(`Is this a recurrence of "IMAP/POP login failures" \(` + first + `, resolved .*\)\? \[y/N\]`)
	term.typeText("y")
	term.enter()
	term.waitFor(`IMAP/POP: state \(Enter keeps: Partial outage\)`)
	term.enter() // the severity's state
	term.waitFor(`Message \(Enter keeps: `)
	term.enter()
	term.waitFor(`Accounts affected`)
	term.enter()
	term.waitFor(`Publish to status page\? \[Y/n\]`)
	term.enter()
	term.waitFor(`✓ status page: file://`)
	after = term.keys - titleKeys
	t.Logf("accessible, keeping a service, linking a recurrence and keeping its state: the title plus %d keystrokes", after)
	if after > 8 {
		t.Errorf("%d keystrokes after the title, want at most 8", after)
	}
	term.waitFor(`Call the on-call colleague`)
	term.pty.WriteString("\x03") // Ctrl-C: the rest can wait, and the prompt must not
	if code := term.wait(); code != 130 {
		t.Errorf("exit code after Ctrl-C at an accessible prompt = %d, want 130", code)
	}

	sums, _ := book.Summaries()
	var again *runbook.Incident
	for _, s := range sums {
		if s.Title == "IMAP logins fail again" {
			again, _ = book.Store.Load(s.ID)
		}
	}
	if again == nil || !slices.Equal(again.Services, []string{"imap"}) || !slices.Equal(again.Related, []string{first}) {
		t.Fatalf("the new incident = %+v", again)
	}
}

// TestOpenChecklistPages: at a screen-reader terminal (ACCESSIBLE=1), the
// open checklist's "Call the on-call colleague" step offers the person on
// call first; Enter and a message page them (through a webhook pager's
// receiver), and the step is recorded as paged.
func TestOpenChecklistPages(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary in a terminal")
	}
	work := t.TempDir()
	rb := filepath.Join(work, "rb")
	if _, err := runbook.Init(rb, false); err != nil {
		t.Fatal(err)
	}
	hook := webhooktest.NewServer(webhooktest.Options{Reporter: t})
	cfg, _ := os.ReadFile(filepath.Join(rb, "incident.toml"))
	cfg = append(cfg, []byte(`
[[pager]]
name = "bridge"
type = "webhook"
url = "`+hook.HookURL+`"
headers = { Authorization = "Bearer env:HOOK_TOKEN" }
to = { alice = "@alice:example.org", bob = "@bob:example.org" }

[[rota]]
person = "bob"
`)...)
	if err := os.WriteFile(filepath.Join(rb, "incident.toml"), cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"HOME=" + work, "XDG_STATE_HOME=" + filepath.Join(work, "state"), "INCIDENT_RUNBOOK=" + rb,
		"TERM=xterm", "ACCESSIBLE=1", "USER=alice", "PATH=" + os.Getenv("PATH"), "TZ=UTC", "HOOK_TOKEN=" + webhooktest.DefaultToken}
	term := startTerminal(t, env, "open", "--title", "IMAP/POP login failures", "--service", "imap")
	line := func(prompt, answer string) {
		t.Helper()
		term.waitFor(prompt)
		term.pty.WriteString(answer + "\r")
	}
	line(`Title`, "")
	line(`Affected services(?s:.*)Enter alone keeps this selection`, "")
	line(`IMAP/POP: state \(Enter keeps`, "")
	line(`Message \(Enter keeps`, "")
	line(`Accounts affected`, "")
	line(`Publish to status page\? \[Y/n\]`, "y")
	term.waitFor(`✓ status page: file://`)
	line(`Step 2 of 6: Call the on-call colleague(?s:.*)Page whom\? \(Enter pages bridge:oncall \(bob, on call now\)\)(?s:.*)1\. bridge:oncall(?s:.*)Enter a number between 1 and 6:`, "")
	line(`What to tell them`, "please join the call")
	term.waitFor(`✓ paged bob \(on call\) by bridge`)
	line(`Step 3 of 6(?s:.*)Enter a number between 1 and 2:`, "1")
	line(`Step 4 of 6`, "")
	line(`Step 5 of 6`, "")
	line(`Step 6 of 6`, "")
	term.waitFor(`open checklist: 6 step\(s\) this time, 1 published, 1 paged`)
	if code := term.wait(); code != 0 {
		t.Fatalf("exit %d", code)
	}
	ds := hook.Deliveries()
	if len(ds) != 1 || ds[0].Person != "bob" || ds[0].Kind != "manual" || !strings.Contains(ds[0].Text, "alice calls you in: please join the call") {
		t.Fatalf("the receiver took %+v", ds)
	}
	book, err := runbook.Open(runbook.Location{Dir: rb}, runbook.Options{Getenv: func(string) string { return "" }, StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	sums, _ := book.Summaries()
	inc, _ := book.Store.Load(sums[0].ID)
	if len(inc.Steps) < 2 || inc.Steps[1].Step != "escalate" || inc.Steps[1].Outcome != "paged" || inc.Steps[1].Value != "bridge:bob" {
		t.Fatalf("steps = %+v", inc.Steps)
	}
	if p := inc.Pages[0]; p.Kind != runbook.PageManual || p.Person != "bob" || !p.OnCall || p.State != runbook.PageSent {
		t.Errorf("page = %+v", p)
	}
}
