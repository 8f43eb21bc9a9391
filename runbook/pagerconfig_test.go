package runbook

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

const pagersBase = `zones = ["Europe/Oslo", "UTC"]

[[pager]]
name = "ops-irc"
type = "irc"
url = "irc://127.0.0.1:6667/#ops"
nick = "incident"

[[pager]]
name = "mail"
type = "email"
url = "smtp://127.0.0.1:2525"
from = "pager@example.com"
to = { alice = "alice@example.com", bob = "bob@example.com" }

[[pager]]
name = "phones"
type = "pushover"
token = "env:PUSHOVER_TOKEN"
to = { alice = "env:PO_ALICE", bob = "env:PO_BOB" }
`

// Paging config is checked at load: every error names the file and the
// line of the table at fault, the pager or person, and what to do; and
// nothing else loads.
func TestPagingConfigErrors(t *testing.T) {
	tests := []struct {
		name, config string
		want         []string
	}{
		{"unknown pager type", "[[pager]] #HERE\nname = \"x\"\ntype = \"pushvoer\"\n", []string{"[[pager]] 4: unknown type \"pushvoer\"; did you mean \"pushover\"?"}},
		{"no type", "[[pager]] #HERE\nname = \"x\"\n", []string{"`type` is required (email, irc, pushover, twilio, webhook)"}},
		{"bad name", "[[pager]] #HERE\nname = \"my:pager\"\ntype = \"irc\"\nurl = \"irc://127.0.0.1/#x\"\nnick = \"n\"\n", []string{"holds no colon"}},
		{"name twice", "[[pager]] #HERE\nname = \"mail\"\ntype = \"irc\"\nurl = \"irc://127.0.0.1/#x\"\nnick = \"n\"\n", []string{"name \"mail\" is used by another pager"}},
		{"pager's own check", "[[pager]] #HERE\nname = \"p2\"\ntype = \"pushover\"\ntoken = \"env:T\"\n", []string{"[[pager]] 4 (p2): pushover: `to` is required"}},
		{"literal secret", "[[pager]]\nname = \"p2\"\ntype = \"pushover\"\ntoken = \"azGDORePK8gMaC0QOYAMyEEuzJnyUi\" #HERE\nto = { a = \"env:A\" }\n", []string{"env:", "file:", "cmd:"}},
		{"unknown pager key", "[[pager]]\nname = \"p2\"\ntype = \"pushover\"\ntoken = \"env:T\"\nto = { a = \"env:A\" }\nprority = 2 #HERE\n", []string{"unknown key `prority` in [[pager]] 4; did you mean `priority`?"}},
		{"unknown escalation key", "[[escalation]]\nnotfy = [\"mail\"] #HERE\n", []string{"unknown key `notfy` in [[escalation]] 1; did you mean `notify`?"}},
		{"unknown pager in notify", "[[escalation]] #HERE\nnotify = [\"ops-ircc\"]\n", []string{"[[escalation]] 1: notify \"ops-ircc\": no [[pager]] is named \"ops-ircc\"; did you mean \"ops-irc\"?"}},
		{"unknown person", "[[escalation]] #HERE\nnotify = [\"phones:alcie\"]\n", []string{"\"alcie\" is not in the `to` table of pager \"phones\"; did you mean \"alice\"?", "people: alice, bob"}},
		{"person on a pager without people", "[[escalation]] #HERE\nnotify = [\"ops-irc:alice\"]\n", []string{"pager \"ops-irc\" has no `to` table of people, so it cannot page \"alice\" alone"}},
		{"oncall without rota", "[[escalation]] #HERE\nnotify = [\"phones:oncall\"]\n", []string{"there is no [[rota]]"}},
		{"rota person not in to", "[[escalation]]\nnotify = [\"phones:oncall\"]\n[[rota]] #HERE\nperson = \"carol\"\n", []string{"[[rota]] 1 names \"carol\", who is not in the `to` table of pager \"phones\" (policy \"default\" pages \"phones:oncall\")"}},
		{"after required", "[[escalation]]\nnotify = [\"mail\"]\n[[escalation]] #HERE\nnotify = [\"phones\"]\n", []string{"[[escalation]] 2: `after` is required"}},
		{"after goes back", "[[escalation]]\nafter = \"10m\"\nnotify = [\"mail\"]\n[[escalation]] #HERE\nafter = \"5m\"\nnotify = [\"phones\"]\n", []string{"levels go in order of `after`"}},
		{"bad after", "[[escalation]] #HERE\nafter = \"soon\"\nnotify = [\"mail\"]\n", []string{"after: \"soon\" is not a duration"}},
		{"repeat not last", "[[escalation]]\nnotify = [\"mail\"]\nrepeat = \"10m\"\n[[escalation]] #HERE\nafter = \"5m\"\nnotify = [\"phones\"]\n", []string{"level 1 of policy \"default\" repeats, so it must be the last"}},
		{"repeat too short", "[[escalation]] #HERE\nnotify = [\"mail\"]\nrepeat = \"5s\"\n", []string{"at least 30s"}},
		{"no notify", "[[escalation]] #HERE\nafter = \"0m\"\n", []string{"`notify` is required"}},
		{"policy off", "[[escalation]] #HERE\npolicy = \"off\"\nnotify = [\"mail\"]\n", []string{"other than \"off\""}},
		{"route names no policy", "[[escalation]]\npolicy = \"nights\"\nnotify = [\"mail\"]\n[alerts]\n[[alerts.route]] #HERE\nname = \"imap\"\nescalation = \"night\"\n", []string{"[[alerts.route]] 1 (imap): escalation \"night\": no [[escalation]] has policy = \"night\"; did you mean \"nights\"?"}},
		{"minor route without email", "[[escalation]]\npolicy = \"loud\"\nnotify = [\"phones\"]\n[alerts]\n[[alerts.route]] #HERE\nname = \"disk\"\nseverity = \"minor\"\nescalation = \"loud\"\n", []string{"[[alerts.route]] 1 (disk) is minor, and a minor incident pages by email only, but policy \"loud\" has no email pager"}},
		{"rota without person", "[[rota]] #HERE\nfrom = \"08:00\"\nto = \"18:00\"\n", []string{"[[rota]] 1: name who is on call"}},
		{"rota bad day", "[[rota]] #HERE\nperson = \"alice\"\ndays = [\"mon\", \"funday\"]\n", []string{"\"funday\" is not a day"}},
		{"rota bad time", "[[rota]] #HERE\nperson = \"alice\"\nfrom = \"8am\"\nto = \"18:00\"\n", []string{"from: \"8am\" is not a time of day"}},
		{"rota zone", "[[rota]] #HERE\nperson = \"alice\"\nzone = \"Europe/Osl\"\n", []string{"unknown time zone \"Europe/Osl\""}},
		{"rotation without start", "[[rota]] #HERE\npeople = [\"alice\", \"bob\"]\nevery = \"weekly\"\n", []string{"a rotation needs `start`"}},
		{"rotation bad every", "[[rota]] #HERE\npeople = [\"alice\", \"bob\"]\nevery = \"fortnightly\"\nstart = \"2026-01-05 09:00\"\n", []string{"every: \"fortnightly\""}},
		{"rota oncall", "[[rota]] #HERE\nperson = \"oncall\"\n", []string{"put real names in [[rota]]"}},
		{"unknown rota key", "[[rota]]\nperson = \"alice\"\nfrm = \"08:00\" #HERE\n", []string{"unknown key `frm` in [[rota]] 1; did you mean `from`?"}},
		{"quiet hours", "[paging.quiet_hours]\nfrom = \"22:00\"\n", []string{"[paging.quiet_hours]: give `from` and `to`"}},
		{"unknown paging key", "[paging]\nquiet = \"22:00\" #HERE\n", []string{"unknown key `paging.quiet`; valid keys here: quiet_hours"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			config := pagersBase + "\n" + tt.config
			want := tt.want
			if i := strings.Index(config, "#HERE"); i >= 0 {
				want = append(want, fmt.Sprintf("incident.toml:%d:", strings.Count(config[:i], "\n")+1))
				config = strings.Replace(config, " #HERE", "", 1)
			}
			_, err := Open(writeRunbook(t, config), Options{Getenv: func(string) string { return "" }, StateDir: t.TempDir()})
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// A valid setup loads into policies, levels and targets as written, with
// urgent by default on every level but the first of several.
func TestPagingConfigLoads(t *testing.T) {
	config := pagersBase + `
[[escalation]]
notify = ["ops-irc", "mail:oncall", "mail:oncall"]
[[escalation]]
after = "5m"
notify = ["phones:oncall"]
[[escalation]]
after = "15m"
notify = ["phones"]
repeat = "10m"
urgent = false

[[escalation]]
policy = "quiet"
notify = ["mail"]

[[rota]]
people = ["alice", "bob"]
every = "daily"
start = "2026-01-05 09:00"

[alerts]
[[alerts.route]]
name = "disk"
severity = "minor"
escalation = "quiet"
`
	rb, err := Open(writeRunbook(t, config), Options{Getenv: func(string) string { return "" }, StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range rb.Escalation.Policies {
		for _, l := range p.Levels {
			var ts []string
			for _, x := range l.Targets {
				ts = append(ts, x.String())
			}
			got = append(got, fmt.Sprintf("%s/%d after %s repeat %s urgent %v: %s", p.Name, l.N, l.After, l.Repeat, l.Urgent, strings.Join(ts, " ")))
		}
	}
	want := []string{
		"default/1 after 0s repeat 0s urgent false: ops-irc mail:oncall",
		"default/2 after 5m0s repeat 0s urgent true: phones:oncall",
		"default/3 after 15m0s repeat 10m0s urgent false: phones",
		"quiet/1 after 0s repeat 0s urgent true: mail",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("policies:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if p := rb.Pager("phones"); !p.PerPerson || len(p.People) != 2 {
		t.Errorf("phones: %+v", p)
	}
	if p := rb.Pager("mail"); p.PerPerson || !p.Email() {
		t.Errorf("mail: %+v", p)
	}
	if got := rb.OnCall(time.Date(2026, 1, 6, 9, 0, 0, 0, rb.Zones[0])); got != "bob" {
		t.Errorf("on call: %q", got)
	}
}
