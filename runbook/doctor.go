package runbook

import (
	"context"
	"fmt"
	"os"
	"sort"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/incident-cli/incident/checklists"
	"github.com/incident-cli/incident/publishers"
	"github.com/incident-cli/incident/templates"
)

// Check is one line of `incident doctor`.
type Check struct {
	What string `json:"what"`
	OK   bool   `json:"ok"`
	Info string `json:"info,omitempty"` // what was found, or what is wrong and what to do
}

// Doctor checks the runbook: templates render with sample data, checklists are
// valid, secrets resolve, and with online each channel's credentials work
// (one read-only call each). Config errors stop Open before we get here.
func (r *Runbook) Doctor(ctx context.Context, online bool) []Check {
	var out []Check
	add := func(what string, err error, info string) {
		c := Check{What: what, OK: err == nil, Info: info}
		if err != nil {
			c.Info = r.Secrets.Redact(err.Error())
		}
		out = append(out, c)
	}
	if r.Embedded {
		add("config", nil, "no incident.toml: the built-in default runbook (run `incident init DIR` to make one)")
	} else {
		add("config", nil, r.ConfigFile)
		out = append(out, r.permissionCheck()...)
	}
	for _, phase := range checklists.Phases {
		cl, err := checklists.Load(r.ChecklistsDir(), phase)
		info := ""
		if err == nil {
			info = fmt.Sprintf("%d items, from %s", len(cl.Items), cl.Source)
		}
		add("checklist "+phase, err, info)
	}
	inc, u := r.sampleIncident()
	for _, name := range r.templateNames() {
		d := r.data(inc, u, "https://status.example.com/incidents/"+inc.ID+".html")
		if name == templates.RFOFile {
			d.RFO = sampleRFO(inc)
		}
		_, err := r.Templates.Render(name, d)
		add("template "+name, err, r.Templates.Source(name))
	}
	if _, err := r.renderAll(inc, u, "https://status.example.com/incidents/"+inc.ID+".html"); err != nil {
		add("sample update fits every channel", err, "")
	} else {
		add("sample update fits every channel", nil, "")
	}
	add("sample maintenance window fits every channel", r.checkMaintenanceSample(), "every phase, with its default message")
	for _, s := range r.secretRefs() {
		_, err := r.Secrets.Resolve(ctx, s)
		add("secret "+s.String(), err, "resolves")
	}
	if online {
		for _, ch := range r.Channels() {
			v, ok := ch.Pub.(publishers.Verifier)
			if !ok {
				add("online "+ch.Name, nil, "nothing to check for type "+ch.Type)
				continue
			}
			cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
			who, err := v.Verify(cctx)
			cancel()
			if err != nil {
				err = fmt.Errorf("%s: %w", ch.Name, err)
			}
			add("online "+ch.Name, err, "credentials work: "+who)
		}
	}
	return append(out, r.doctorPaging(ctx, online)...)
}

// permissionCheck warns when the config, which names secret files and
// commands, can be changed by others: whoever can edit it can make a cmd:
// secret run anything.
func (r *Runbook) permissionCheck() []Check {
	st, err := os.Stat(r.ConfigFile)
	// The mode first: every command checks, and reading the secret
	// references means parsing the config once more.
	if err != nil || st.Mode().Perm()&0o022 == 0 || len(r.secretRefs()) == 0 {
		return nil
	}
	return []Check{{What: "config permissions", OK: false,
		Info: fmt.Sprintf("%s is writable by group or others (%v) and holds secret references: run `chmod go-w %s`", r.ConfigFile, st.Mode().Perm(), r.ConfigFile)}}
}

// PermissionWarning is the one-line warning commands print, or "".
func (r *Runbook) PermissionWarning() string {
	if r.Embedded {
		return ""
	}
	if c := r.permissionCheck(); len(c) > 0 {
		return c[0].Info
	}
	return ""
}

func (r *Runbook) templateNames() []string {
	names := map[string]bool{templates.StatusFile: true, templates.TitleFile: true, templates.ForumFile: true,
		templates.SocialFile: true, templates.RFOFile: true, templates.MessageFile: true, templates.AlertFile: true,
		templates.MaintenanceFile: true}
	for _, rt := range r.Config.Alerts.Routes {
		names[rt.alertTemplate()] = true
	}
	for _, ch := range r.Links {
		names[ch.Template] = true
	}
	var out []string
	for n := range names {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// secretRefs lists every secret reference in the config (values of channel
// tables that start with env:, file: or cmd:), sorted by reference.
func (r *Runbook) secretRefs() []publishers.Secret {
	if r.Embedded {
		return nil
	}
	return configSecrets(r.ConfigFile)
}

// configSecrets lists the secret references of a config file, sorted.
func configSecrets(file string) []publishers.Secret {
	var raw map[string]any
	if _, err := toml.DecodeFile(file, &raw); err != nil {
		return nil
	}
	seen := map[string]publishers.Secret{}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case string:
			if _, s, ok := publishers.FindSecret(x); ok {
				seen[s.Ref()] = s
			}
		case map[string]any:
			for _, y := range x {
				walk(y)
			}
		case []map[string]any:
			for _, y := range x {
				walk(y)
			}
		case []any:
			for _, y := range x {
				walk(y)
			}
		}
	}
	walk(raw["status_page"])
	walk(raw["channel"])
	walk(raw["alerts"])
	walk(raw["pager"])
	out := make([]publishers.Secret, 0, len(seen))
	for _, s := range seen {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Ref() < out[j].Ref() })
	return out
}

// sampleIncident is a realistic incident for checking templates: the longest
// service names of the runbook, several updates.
func (r *Runbook) sampleIncident() (*Incident, *Update) {
	now := r.Now()
	var svcs []string
	for _, s := range r.Config.Services {
		svcs = append(svcs, s.ID)
	}
	if len(svcs) == 0 {
		svcs = []string{"imap"}
	}
	acc := 1200
	started := now.Add(-50 * time.Minute)
	evs := []Event{
		{ID: "1", Kind: KindOpened, At: now.Add(-45 * time.Minute), By: "alice", Title: "IMAP/POP login failures for some customers",
			Severity: "major", Services: svcs, Accounts: &acc, StartedAt: &started},
		{ID: "2", Kind: KindUpdate, At: now.Add(-44 * time.Minute), By: "alice", Status: Investigating,
			Message: "We are investigating reports of IMAP and POP connection failures."},
		{ID: "3", Kind: KindUpdate, At: now, By: "bob", Status: Identified,
			Message: "A brute-force attack overloads the IMAP servers. We are blocking the attacking networks; logins may fail for some customers until then."},
	}
	inc := Fold("2026-11-27-imap-pop-login-failures-for-some-customers", evs)
	return inc, inc.Updates[len(inc.Updates)-1]
}

func sampleRFO(inc *Incident) *templates.RFO {
	return &templates.RFO{Summary: "IMAP and POP logins failed for some customers.", RootCause: "A brute-force attack.",
		Mitigation: "We blocked the attacking networks.", FollowUp: "Rate limits per source network.",
		Timeline:         []templates.TimelineEntry{{At: inc.StartedAt, Text: "Problem began"}},
		FirstUpdateAfter: 6 * time.Minute, UpdateCount: 2, LongestGap: 44 * time.Minute, Cadence: 30 * time.Minute, Duration: 50 * time.Minute}
}
