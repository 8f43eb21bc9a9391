package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"

	"github.com/incident-cli/incident/runbook"
)

// Exit codes (SPEC.md).
const (
	exitOK      = 0
	exitFailed  = 1 // nothing published, or an error before publishing
	exitUsage   = 2 // bad flag, missing value, unknown incident
	exitPartial = 3 // canonical update live, some channel failed; recorded for retry
	exitOverdue = 4 // incident status: an update is overdue
)

const exitStatusHelp = `
EXIT STATUS
  0  done
  1  failed: nothing was published, or an error before publishing
  2  usage error (bad flag or value, missing value, unknown incident,
     a status change that is not allowed)
  3  partly published: the status page has the update, some channel failed
     (recorded: run ` + "`incident retry`" + `)
  4  incident status: an update is overdue`

// system is everything a command takes from the outside world, so tests can
// replace any of it.
type system struct {
	In       io.Reader
	Out, Err io.Writer
	InTTY    bool // stdin is a terminal
	OutTTY   bool // stdout is a terminal
	Getenv   func(string) string
	Now      func() time.Time
	WD       string
}

func newSystem() *system {
	wd, _ := os.Getwd()
	return &system{
		In: os.Stdin, Out: os.Stdout, Err: os.Stderr,
		InTTY:  isatty.IsTerminal(os.Stdin.Fd()) || isatty.IsCygwinTerminal(os.Stdin.Fd()),
		OutTTY: isatty.IsTerminal(os.Stdout.Fd()),
		Getenv: os.Getenv, Now: time.Now, WD: wd,
	}
}

// app holds the global flags and the lazily opened runbook.
type app struct {
	sys     *system
	dir     string // --runbook
	noInput bool
	noPull  bool // shell completion: never wait for git
	// readOnly: the command only reads the records (status, list), so the
	// templates are parsed only if something renders.
	readOnly bool
	rb       *runbook.Runbook
	loc      runbook.Location
}

// exitError carries an exit code with the error to print.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func usageErrorf(format string, a ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, a...)}
}

// exitCode is an error that only sets the exit code (its message was printed).
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit %d", int(e)) }

func versionString() string {
	v := version
	if v == "" {
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
			v = bi.Main.Version
		} else {
			v = "(devel)"
		}
	}
	return v
}

func run(args []string, sys *system) int {
	ctx, stop := signalContext()
	defer stop()
	a := &app{sys: sys}
	root := a.newRootCmd()
	root.SetArgs(args)
	root.SetIn(sys.In)
	// Everything printed is cleaned of terminal controls (see clean).
	root.SetOut(terminalWriter{sys.Out})
	root.SetErr(terminalWriter{sys.Err})
	err := root.ExecuteContext(ctx)
	a.syncAfter(ctx)
	if err == nil {
		return exitOK
	}
	var code exitCode
	if errors.As(err, &code) {
		return int(code)
	}
	msg := err.Error()
	if a.rb != nil {
		msg = a.rb.Secrets.Redact(msg)
	}
	fmt.Fprintln(sys.Err, "incident: "+strings.ReplaceAll(clean(msg), "\n", "\n  "))
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	var ue *runbook.UsageError
	if errors.Is(err, runbook.ErrUnknownIncident) || errors.As(err, &ue) {
		return exitUsage
	}
	return exitFailed
}

// signalContext cancels on the first SIGINT/SIGTERM (in-flight calls finish
// or time out and everything is recorded); a second one exits at once.
func signalContext() (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		n := 0
		for range ch {
			n++
			if n == 1 {
				fmt.Fprintln(os.Stderr, "incident: interrupted: finishing in-flight posts and recording them (press Ctrl-C again to quit now; `incident retry` completes the rest)")
				cancel()
				continue
			}
			os.Exit(130)
		}
	}()
	return ctx, func() { signal.Stop(ch); cancel() }
}

func (a *app) newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "incident",
		Short: "Run outages well: inform customers first, keep the updates coming, publish the RFO",
		Long: `incident runs an outage from a laptop: ` + "`incident open`" + ` publishes the first update to
the status page and posts a link on the forum and social accounts; ` + "`incident update`" + `
keeps the cadence; ` + "`incident close --rfo`" + ` resolves it and publishes the Reason For Outage.

Runbook: --runbook DIR, else $INCIDENT_RUNBOOK, else the nearest directory upward
holding incident.toml, else $XDG_CONFIG_HOME/incident, else the built-in default
(static status page only, state under $XDG_DATA_HOME/incident).
` + exitStatusHelp,
		Version:       versionString(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetVersionTemplate("incident {{.Version}}\n")
	root.PersistentFlags().StringVar(&a.dir, "runbook", "", "runbook `DIR` (default: $INCIDENT_RUNBOOK, incident.toml upward, config dir, built-in)")
	root.PersistentFlags().BoolVar(&a.noInput, "no-input", false, "never prompt; missing values are usage errors")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &exitError{code: exitUsage, err: fmt.Errorf("%v\nrun `%s --help` for usage", err, c.CommandPath())}
	})
	root.AddCommand(
		a.newInitCmd(), a.newOpenCmd(), a.newUpdateCmd(), a.newCloseCmd(), a.newReopenCmd(),
		a.newRFOCmd(), a.newNoteCmd(), a.newListCmd(), a.newShowCmd(), a.newStatusCmd(), a.newRetryCmd(),
		a.newDoctorCmd(), a.newSiteCmd(), a.newSyncCmd(), a.newTrustCmd(), a.newVersionCmd(),
		a.newAlertCmd(), a.newServeCmd(), a.newTickCmd(), a.newAckCmd(), a.newDismissCmd(),
		a.newMaintenanceCmd(),
		a.newPageCmd(),
	)
	root.AddCommand(a.devCommands()...)
	for _, c := range root.Commands() {
		c.Args = wrapArgs(c.Args)
		a.completeFlags(c)
	}
	return root
}

// wrapArgs makes argument-count errors usage errors (exit 2).
func wrapArgs(v cobra.PositionalArgs) cobra.PositionalArgs {
	if v == nil {
		return nil
	}
	return func(c *cobra.Command, args []string) error {
		if err := v(c, args); err != nil {
			return usageErrorf("%v; run `%s --help` for usage", err, c.CommandPath())
		}
		return nil
	}
}

// stderr is standard error for messages, cleaned of terminal controls.
func (a *app) stderr() io.Writer { return terminalWriter{a.sys.Err} }

// rawOut is the command's standard output without cleaning, for JSON:
// encoding/json escapes control characters itself, and a program must get
// the data exactly as recorded.
func rawOut(c *cobra.Command) io.Writer {
	if t, ok := c.OutOrStdout().(terminalWriter); ok {
		return t.w
	}
	return c.OutOrStdout()
}

// canPrompt reports whether a person can answer prompts.
func (a *app) canPrompt() bool {
	return !a.noInput && a.sys.InTTY
}

// runbook opens the runbook once.
func (a *app) runbook() (*runbook.Runbook, error) {
	if a.rb != nil {
		return a.rb, nil
	}
	loc, err := runbook.Find(a.dir, a.sys.Getenv, a.sys.WD)
	if err != nil {
		return nil, &exitError{code: exitUsage, err: err}
	}
	rb, err := runbook.Open(loc, runbook.Options{Getenv: a.sys.Getenv, Now: a.sys.Now, UserAgent: "incident/" + versionString(), LazyTemplates: a.readOnly})
	if err != nil {
		return nil, err
	}
	if w := rb.PermissionWarning(); w != "" {
		fmt.Fprintln(a.stderr(), "warning: "+w)
	}
	if a.noPull {
		// Shell completion asks nothing; the resolver still runs no cmd:
		// secret the user has not trusted.
		a.rb, a.loc = rb, loc
		return rb, nil
	}
	if err := a.trustCommands(rb); err != nil {
		return nil, err
	}
	a.rb, a.loc = rb, loc
	if err := rb.SyncBefore(context.Background()); err != nil {
		return nil, err
	}
	if rb.Sync != nil && rb.Sync.Pending != nil {
		fmt.Fprintf(a.stderr(), "sync pending: could not pull the runbook (%s); going ahead with what is here\n", rb.Secrets.Redact(rb.Sync.Pending.Error()))
		rb.Sync.Pending = nil
	}
	return rb, nil
}

func (a *app) newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			fmt.Fprintf(c.OutOrStdout(), "incident %s", versionString())
			if commit != "" {
				fmt.Fprintf(c.OutOrStdout(), " (%s, %s)", commit, date)
			}
			fmt.Fprintln(c.OutOrStdout())
			return nil
		},
	}
}

// syncAfter commits and pushes what the command wrote, when the runbook is
// shared through git, and says in one line when that is pending.
func (a *app) syncAfter(ctx context.Context) {
	rb := a.rb
	if rb == nil || rb.Sync == nil || len(rb.Store.Written()) == 0 {
		return
	}
	if err := rb.SyncAfter(ctx, rb.CommitMessage()); err != nil {
		fmt.Fprintln(a.stderr(), "incident: "+rb.Secrets.Redact(err.Error()))
		return
	}
	if rb.Sync.Pending != nil {
		fmt.Fprintf(a.stderr(), "sync pending: the records are committed here but not pushed (%s); the next command, or `incident sync`, pushes them\n", rb.Secrets.Redact(rb.Sync.Pending.Error()))
	}
}
