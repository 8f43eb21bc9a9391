package runbook

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/incident-cli/incident/templates"
)

// Scheduled maintenance. A maintenance window is an incident whose opened
// event carries the window (Event.Maintenance: start and end), its
// services and its title, with the status Scheduled. Its lifecycle, in
// Statuspage's words, is scheduled -> in_progress -> completed, or
// cancelled before it starts. Every phase is a public update through the
// engine (status page first, then every link channel, exactly once); the
// reminder, the start and the completion are timed actions (see
// maintenanceDue) that `incident serve` and `incident tick` publish by
// themselves unless a person already did. A window keeps no cadence, never
// pages, and holds its services under maintenance only while it is in
// progress: a window in the future never changes a service's state.

// The statuses of a maintenance window.
const (
	Scheduled  = "scheduled"
	InProgress = "in_progress"
	Completed  = "completed"
	Cancelled  = "cancelled"
)

// The timed actions of a maintenance window (their keys are their kinds).
const (
	ActionMaintRemind   = "maint-remind"   // the reminder, remind_before the start
	ActionMaintStart    = "maint-start"    // in progress, at the start
	ActionMaintComplete = "maint-complete" // completed, at the end
)

// DefaultRemindBefore is when the reminder goes out before a window starts.
const DefaultRemindBefore = 60 * time.Minute

// Window is a maintenance window as the opened event records it.
type Window struct {
	Start time.Time `toml:"start"`
	End   time.Time `toml:"end"`
}

// Maintenance is the fold of a maintenance window: its window, its phase
// (the incident's status) and when each phase was published.
type Maintenance struct {
	Start, End time.Time
	Phase      string    // Scheduled, InProgress, Completed or Cancelled
	RemindedAt time.Time // the reminder's update; zero before it
	StartedAt  time.Time // the in-progress update (a person may start early)
	EndedAt    time.Time // the completed or cancelled update
}

// MaintenanceSummary is a window as list, status and the site need it.
type MaintenanceSummary struct {
	Start      time.Time `json:"start"`
	End        time.Time `json:"end"`
	Phase      string    `json:"phase"`
	RemindedAt time.Time `json:"reminded_at,omitzero"`
}

// activeAt reports whether the window holds its services at now: it is in
// progress, or its start has come and the timer is about to start it, and
// its end has not come (when the timer completes it).
func (m *MaintenanceSummary) activeAt(now time.Time) bool {
	if m == nil || now.Before(m.Start) && m.Phase != InProgress {
		return false
	}
	return (m.Phase == InProgress || m.Phase == Scheduled) && now.Before(m.End)
}

// MaintenanceConfig is the [maintenance] table.
type MaintenanceConfig struct {
	// RemindBefore is how long before a window's start the reminder goes
	// out: "60m" by default, "off" for none.
	RemindBefore OffDuration `toml:"remind_before"`
}

// maintenanceKeys are the keys of [maintenance].
var maintenanceKeys = []string{"remind_before"}

// OffDuration is a duration written as "60m" in TOML, or "off".
type OffDuration struct {
	time.Duration
	Set bool // written in the config (Duration 0 with Set: off)
}

// UnmarshalText parses "60m", "1h30m" or "off".
func (d *OffDuration) UnmarshalText(b []byte) error {
	v, err := parseAfter(string(b))
	if err != nil || string(b) == "" {
		return fmt.Errorf("%q is not a duration like \"60m\", or \"off\"", b)
	}
	d.Duration, d.Set = v, true
	return nil
}

// RemindBefore is how long before a window's start its reminder goes out;
// 0 when reminders are off.
func (r *Runbook) RemindBefore() time.Duration { return r.remindBefore() }

// remindBefore is the reminder's lead time; 0 when reminders are off.
func (r *Runbook) remindBefore() time.Duration {
	if rb := r.Config.Maintenance.RemindBefore; rb.Set {
		return rb.Duration
	}
	return DefaultRemindBefore
}

func closedStatus(s string) bool { return s == Resolved || s == Completed || s == Cancelled }

// foldMaintenance applies a maintenance window's update.
func foldMaintenance(inc *Incident, e Event) {
	m := inc.Maintenance
	m.Phase = e.Status
	switch {
	case e.Action == ActionMaintRemind:
		m.RemindedAt = e.At
	case e.Status == InProgress:
		m.StartedAt = e.At
	case e.Status == Completed || e.Status == Cancelled:
		m.EndedAt = e.At
	}
}

// maintenanceState is the state a window in status holds its services in.
func maintenanceState(status string) string {
	if status == InProgress {
		return UnderMaintenance
	}
	return Operational
}

func maintenanceStates(services []string, status string) map[string]string {
	out := make(map[string]string, len(services))
	for _, svc := range services {
		out[svc] = maintenanceState(status)
	}
	return out
}

// phaseOf is what update u of a window announces: its status, or
// "reminder" for the reminder.
func phaseOf(inc *Incident, u *Update) string {
	switch {
	case u == nil || u.Event.Status == "":
		return inc.Maintenance.Phase
	case u.Event.Action == ActionMaintRemind:
		return "reminder"
	}
	return u.Event.Status
}

// checkMaintenance validates a draft that schedules a window or moves one
// to its next phase, and refuses the commands of incidents on a window.
func (r *Runbook) checkMaintenance(inc *Incident, d Draft) error {
	if d.States != nil {
		return errors.New("a maintenance window sets its services' states itself: under maintenance while it is in progress, operational otherwise")
	}
	if strings.TrimSpace(d.Message) == "" {
		return errors.New("a message is required")
	}
	switch {
	case d.Via == "open":
		return r.checkWindow(inc, d)
	case inc.Maintenance == nil:
		return fmt.Errorf("incident %s is not a maintenance window; `incident maintenance list` shows the windows", inc.ID)
	case d.Via != "maintenance":
		return fmt.Errorf("%s is a maintenance window: `incident maintenance start|complete|cancel %s` moves it on", inc.ID, inc.ID)
	}
	m := inc.Maintenance
	now := r.Now()
	switch {
	case closedStatus(m.Phase):
		return fmt.Errorf("maintenance %s is already %s", inc.ID, m.Phase)
	case d.Status == Scheduled && d.Action == ActionMaintRemind && m.Phase == Scheduled:
		return nil // the reminder
	case d.Status == InProgress && m.Phase == Scheduled:
		return nil
	case d.Status == InProgress:
		return fmt.Errorf("maintenance %s is already in progress: `incident maintenance complete %s` ends it", inc.ID, inc.ID)
	case d.Status == Completed && (m.Phase == InProgress || !now.Before(m.Start)):
		return nil
	case d.Status == Completed:
		return fmt.Errorf("maintenance %s has not started: `incident maintenance start %s` starts it, `incident maintenance cancel %s` calls it off", inc.ID, inc.ID, inc.ID)
	case d.Status == Cancelled && m.Phase == Scheduled:
		return nil
	case d.Status == Cancelled:
		return fmt.Errorf("maintenance %s is in progress and cannot be cancelled: `incident maintenance complete %s` ends it", inc.ID, inc.ID)
	}
	return fmt.Errorf("a maintenance window moves to in_progress, completed or cancelled, not %q", d.Status)
}

// checkWindow validates a new window.
func (r *Runbook) checkWindow(inc *Incident, d Draft) error {
	w := d.Window
	switch {
	case w == nil || w.Start.IsZero() || w.End.IsZero():
		return errors.New("a maintenance window needs its start and its end")
	case d.Status != Scheduled:
		return fmt.Errorf("a maintenance window starts as %s, not %q", Scheduled, d.Status)
	case d.Severity != "":
		return errors.New("a maintenance window has no severity")
	case len(inc.Services) == 0:
		return errors.New("name the services the maintenance affects (--service)")
	case !w.End.After(w.Start):
		return fmt.Errorf("the window ends (%s) before it starts (%s): the end must come after the start", r.Templates.When(w.End), r.Templates.When(w.Start))
	case w.Start.Before(r.Now().Add(-time.Minute)):
		return fmt.Errorf("the window starts in the past (%s): schedule it for a time to come, or `incident open` an incident", r.Templates.When(w.Start))
	}
	return r.CheckServices(inc.Services)
}

// ScheduleDraft is the draft that announces a new maintenance window of
// services, with message, or when it is empty the scheduled message of
// maintenance.md.tmpl.
func (r *Runbook) ScheduleDraft(title string, services []string, w Window, message string) (Draft, error) {
	d := Draft{Via: "open", Title: strings.TrimSpace(title), Services: services, Status: Scheduled, Window: &w,
		Message: strings.TrimSpace(message)}
	if d.Message == "" {
		inc := &Incident{Title: d.Title, Services: services, Status: Scheduled, StartedAt: w.Start,
			Maintenance: &Maintenance{Start: w.Start, End: w.End, Phase: Scheduled}}
		var err error
		if d.Message, err = r.MaintenanceMessage(inc, Scheduled); err != nil {
			return d, err
		}
	}
	return d, nil
}

// MaintenanceDraft is the draft that moves window inc to status (InProgress,
// Completed or Cancelled), by a person: with message, or when it is empty
// that phase's message of maintenance.md.tmpl.
func (r *Runbook) MaintenanceDraft(inc *Incident, status, message string) (Draft, error) {
	d := Draft{Via: "maintenance", Status: status, Message: strings.TrimSpace(message)}
	if inc.Maintenance == nil {
		return d, &UsageError{fmt.Errorf("incident %s is not a maintenance window; `incident maintenance list` shows the windows", inc.ID)}
	}
	if d.Message == "" {
		var err error
		if d.Message, err = r.MaintenanceMessage(inc, status); err != nil {
			return d, err
		}
	}
	return d, nil
}

// MaintenanceMessage renders the message of a phase of window inc
// (scheduled, reminder, in_progress, completed, cancelled) from
// maintenance.md.tmpl.
func (r *Runbook) MaintenanceMessage(inc *Incident, phase string) (string, error) {
	x := *inc
	x.Status = phase
	if phase == "reminder" {
		x.Status = Scheduled
	}
	m := *inc.Maintenance
	x.Maintenance = &m
	d := r.data(&x, &Update{Event: Event{ID: "~maintenance", Status: x.Status}}, "")
	d.Incident.Maintenance.Phase = phase
	d.Update = templates.Update{Status: x.Status}
	s, err := r.Templates.Render(templates.MaintenanceFile, d)
	if err != nil {
		return "", err
	}
	if s = strings.TrimSpace(s); s == "" {
		return "", fmt.Errorf("%s renders nothing for the phase %s: write a message with --message, or fix the template", r.Templates.Source(templates.MaintenanceFile), phase)
	}
	return s, nil
}

// maintenanceDue is what is due for window inc at now: the reminder
// (remind_before the start, if the window was announced before then and
// has not started), the start (at the start, while scheduled), the
// completion (at the end, while in progress or, when nothing started it
// in time, still scheduled). A phase a person already published is never
// due again, and a cancelled or completed window has nothing due.
func (r *Runbook) maintenanceDue(inc *Incident, now time.Time) []Action {
	m := inc.Maintenance
	if m == nil || !inc.Open() {
		return nil
	}
	var out []Action
	add := func(kind string, at time.Time, why string) {
		if !now.Before(at) {
			out = append(out, Action{Incident: inc.ID, Kind: kind, Key: kind, Due: at, Why: why})
		}
	}
	when := r.Templates.When
	if before := r.remindBefore(); before > 0 && m.Phase == Scheduled && m.RemindedAt.IsZero() && now.Before(m.Start) {
		if at := m.Start.Add(-before); inc.OpenedAt.Before(at) {
			add(ActionMaintRemind, at, fmt.Sprintf("the window starts in %s, at %s", templates.Duration(before), when(m.Start)))
		}
	}
	if m.Phase == Scheduled && now.Before(m.End) {
		add(ActionMaintStart, m.Start, "the window started at "+when(m.Start))
	}
	if m.Phase == InProgress || m.Phase == Scheduled {
		add(ActionMaintComplete, m.End, "the window ended at "+when(m.End))
	}
	return out
}

// doMaintenance publishes a window's timed phase, by itself.
func (r *Runbook) doMaintenance(ctx context.Context, inc *Incident, a Action, opt PublishOptions) (*Result, error) {
	status, phase := Scheduled, "reminder"
	switch a.Kind {
	case ActionMaintStart:
		status, phase = InProgress, InProgress
	case ActionMaintComplete:
		status, phase = Completed, Completed
	}
	msg, err := r.MaintenanceMessage(inc, phase)
	if err != nil {
		return nil, err
	}
	d := Draft{Via: "maintenance", Status: status, Message: msg, Author: AutomaticAuthor, Action: a.Key, Reason: a.Why}
	opt.locked = true
	return r.Publish(ctx, inc.ID, d, opt)
}

// inMaintenance reports whether every service of inc is inside a
// maintenance window in progress at now: a window a person or the timer
// started, or whose start has come (the timer is about to start it), and
// whose end has not. It is false for a window itself, for an incident with
// no services, and when the windows cannot be read (an alert is then
// handled as outside any window: better a page too many than none).
func (r *Runbook) inMaintenance(inc *Incident, now time.Time) bool {
	if inc.Maintenance != nil || len(inc.Services) == 0 {
		return false
	}
	sums, err := r.OpenSummaries()
	if err != nil {
		return false
	}
	for _, svc := range inc.Services {
		if !slices.ContainsFunc(sums, func(s Summary) bool {
			return s.Open() && s.Maintenance.activeAt(now) && slices.Contains(s.Services, svc)
		}) {
			return false
		}
	}
	return true
}

// MaintenanceAllows reports whether an incident may do what ("page" or
// "publish": the automatic first update) at now: always outside a
// maintenance window; inside one (see inMaintenance) only as its route's
// during_maintenance says: "record" (the default) neither pages nor
// publishes, "page" pages, "publish" pages and publishes.
func (r *Runbook) MaintenanceAllows(inc *Incident, now time.Time, what string) bool {
	if !r.inMaintenance(inc, now) {
		return true
	}
	mode := "record"
	for _, rt := range r.Config.Alerts.Routes {
		if rt.Name == inc.Route && rt.DuringMaintenance != "" {
			mode = rt.DuringMaintenance
		}
	}
	return mode == "publish" || mode == "page" && what == "page"
}

// checkMaintenanceSample renders every phase of a sample window, with the
// default messages of maintenance.md.tmpl, for every channel (doctor): a
// template that fails or a text over a channel's limit is found before a
// window is scheduled.
func (r *Runbook) checkMaintenanceSample() error {
	inc, _ := r.sampleIncident()
	start := r.Now().Add(72 * time.Hour).Truncate(time.Hour)
	opened := Event{ID: "1", Kind: KindOpened, At: r.Now(), By: "alice", Title: "Moving every mailbox to the new storage cluster",
		Services: inc.Services, Maintenance: &Window{Start: start, End: start.Add(150 * time.Minute)}}
	for _, phase := range []string{Scheduled, "reminder", InProgress, Completed, Cancelled} {
		w := Fold(inc.ID, []Event{opened})
		msg, err := r.MaintenanceMessage(w, phase)
		if err != nil {
			return err
		}
		status, action := phase, ""
		if phase == "reminder" {
			status, action = Scheduled, ActionMaintRemind
		}
		w = Fold(inc.ID, []Event{opened, {ID: "2", Kind: KindUpdate, At: r.Now(), By: AutomaticAuthor, Status: status,
			Action: action, Message: msg, Channels: r.channelNames()}})
		if _, err := r.renderAll(w, w.Updates[0], "https://status.example.com/incidents/"+inc.ID+".html"); err != nil {
			return fmt.Errorf("%s: %w", phase, err)
		}
	}
	return nil
}
