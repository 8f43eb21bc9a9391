package runbook

import (
	"strings"
	"testing"
	"time"
)

const allChannelsConfig = `organization = "Example Mail"
zones = ["Europe/Oslo", "UTC"]

[[service]]
id = "imap"
name = "IMAP/POP"
[[service]]
id = "smtp"
name = "Outgoing mail (SMTP submission and relay)"
[[service]]
id = "webmail"
name = "Webmail and calendar (CalDAV/CardDAV)"

[status_page]
type = "static"
base_url = "https://status.example-mail-provider.com"

[[channel]]
name = "community"
type = "discourse"
url = "https://community.example.com"
username = "status-bot"
api_key = "env:DISCOURSE_API_KEY"
category = 7

[[channel]]
name = "mastodon"
type = "mastodon"
url = "https://mastodon.example"
access_token = "env:MASTODON_TOKEN"

[[channel]]
name = "x"
type = "twitter"
consumer_key = "env:X_CK"
consumer_secret = "env:X_CS"
access_token = "env:X_AT"
access_token_secret = "env:X_ATS"

[[channel]]
name = "bluesky"
type = "bluesky"
identifier = "status.example.com"
app_password = "env:BSKY"

[[channel]]
name = "chat"
type = "webhook"
url = "https://chat.example.com/hooks/x"

[[channel]]
name = "announce"
type = "email"
url = "smtps://smtp.example.com"
username = "status@example.com"
password = "env:SMTP_PASSWORD"
from = "Example Mail status <status@example.com>"
to = "status-announce@lists.example.com"
`

// TestDefaultTemplatesFit renders the longest plausible update (a long
// title, a long message, every service, the longest incident id) for every
// channel type with the built-in templates: each must fit its channel.
func TestDefaultTemplatesFit(t *testing.T) {
	rb, err := Open(writeRunbook(t, allChannelsConfig), Options{Getenv: func(string) string { return "" }, StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 27, 23, 0, 0, 0, time.UTC)
	title := strings.Repeat("IMAP and POP login failures for customers on the old cluster ", 3)
	message := strings.Repeat("We are investigating reports that customers cannot log in over IMAP or POP. ", 6)
	for _, status := range []string{Investigating, Identified, Monitoring, Resolved} {
		evs := []Event{
			{ID: "1", Kind: KindOpened, At: now, Title: title, Services: []string{"imap", "smtp", "webmail"}},
			{ID: "2", Kind: KindUpdate, At: now, Status: status, Message: message, Channels: rb.channelNames()},
		}
		inc := Fold("2026-11-27-"+Slug(title), evs)
		url := rb.linkURL(inc)
		out, err := rb.renderAll(inc, inc.Updates[0], url)
		if err != nil {
			t.Fatalf("%s: %v", status, err)
		}
		for _, x := range out {
			if x.Limit > 0 {
				t.Logf("%-9s %-10s %3d/%d", x.Channel, status, x.Length, x.Limit)
			}
			if !x.StatusPage && !strings.Contains(x.Text, url) {
				t.Errorf("%s: the link is missing: %q", x.Channel, x.Text)
			}
		}
	}
}

// TestDefaultMaintenanceTemplatesFit: every phase of the longest plausible
// maintenance window (a long title, the default message of each phase, a
// window over midnight, every service) fits every channel.
func TestDefaultMaintenanceTemplatesFit(t *testing.T) {
	rb, err := Open(writeRunbook(t, allChannelsConfig), Options{Getenv: func(string) string { return "" }, StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 27, 23, 0, 0, 0, time.UTC)
	title := strings.Repeat("Moving every mailbox to the new storage cluster in Oslo ", 3)
	w := &Window{Start: time.Date(2026, 11, 30, 22, 30, 0, 0, time.UTC), End: time.Date(2026, 12, 1, 4, 45, 0, 0, time.UTC)}
	for _, phase := range []string{Scheduled, "reminder", InProgress, Completed, Cancelled} {
		status, action := phase, ""
		if phase == "reminder" {
			status, action = Scheduled, ActionMaintRemind
		}
		evs := []Event{{ID: "1", Kind: KindOpened, At: now, Title: title, Services: []string{"imap", "smtp", "webmail"}, Maintenance: w}}
		inc := Fold("2026-11-27-"+Slug(title), evs)
		msg, err := rb.MaintenanceMessage(inc, phase)
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, Event{ID: "2", Kind: KindUpdate, At: now, Status: status, Action: action, Message: msg, Channels: rb.channelNames()})
		inc = Fold(inc.ID, evs)
		url := rb.linkURL(inc)
		out, err := rb.renderAll(inc, inc.Updates[0], url)
		if err != nil {
			t.Fatalf("%s: %v", phase, err)
		}
		for _, x := range out {
			if x.Limit > 0 {
				t.Logf("%-9s %-11s %3d/%d", x.Channel, phase, x.Length, x.Limit)
			}
			if !x.StatusPage && !strings.Contains(x.Text, url) {
				t.Errorf("%s: the link is missing: %q", x.Channel, x.Text)
			}
			if x.Channel != "chat" && !strings.Contains(x.Text, "Mon 30 Nov 23:30 – Tue 1 Dec 05:45 CET") {
				t.Errorf("%s %s does not show the window: %q", x.Channel, phase, x.Text)
			}
		}
	}
}
