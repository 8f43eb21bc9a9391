package alerts

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// wantInput checks that err is an *InputError of source naming field, with
// every one of msg in its text.
func wantInput(t *testing.T, err error, source, field string, msg ...string) {
	t.Helper()
	var in *InputError
	if !errors.As(err, &in) {
		t.Fatalf("got %T %v, want *InputError", err, err)
	}
	if in.Source != source || in.Field != field {
		t.Errorf("got source %q field %q, want %q %q (%v)", in.Source, in.Field, source, field, err)
	}
	for _, m := range msg {
		if !strings.Contains(err.Error(), m) {
			t.Errorf("error %q does not say %q", err, m)
		}
	}
}

func TestParseErrors(t *testing.T) {
	am := func(alert string) string {
		return `{"version":"4","groupKey":"g","status":"firing","alerts":[` + alert + `]}`
	}
	many := strings.TrimSuffix(strings.Repeat(`{"status":"firing","labels":{"alertname":"A"}},`, MaxAlerts+1), ",")
	for _, c := range []struct {
		name, source, body, field string
		msg                       []string
	}{
		{"unknown source", "zabbix", `{}`, "source", []string{`unknown source "zabbix"`, "nagios and checkmk"}},
		{"empty body", SourceAlertmanager, " \n", "body", []string{"empty", "Alertmanager webhook payload"}},
		{"not JSON", SourceAlertmanager, `{"version":"4",`, "body", []string{"JSON ends early"}},
		{"syntax", SourceAlertmanager, `{"version":4x}`, "body", []string{"not JSON", "at byte"}},
		{"two values", SourceAlertmanager, am(`{"status":"firing"}`) + ` {}`, "body", []string{"more than one JSON value"}},
		{"wrong version", SourceAlertmanager, `{"version":"1","alerts":[]}`, "version", []string{`version "1"`, `"4"`}},
		{"grafana at the AM path", SourceAlertmanager, `{"version":"1","orgId":1,"alerts":[]}`, "version", []string{"/alerts/grafana"}},
		{"no alerts field", SourceAlertmanager, `{"version":"4"}`, "alerts", []string{"missing"}},
		{"no alerts", SourceAlertmanager, `{"version":"4","alerts":[]}`, "alerts", []string{"no alerts"}},
		{"too many", SourceAlertmanager, `{"version":"4","alerts":[` + many + `]}`, "alerts", []string{"1001 alerts", "at most 1000", "max_alerts"}},
		{"bad status", SourceAlertmanager, am(`{"status":"pending","labels":{"alertname":"A"}}`), "alerts[0].status", []string{`"pending"`, `"firing" or "resolved"`}},
		{"bad time", SourceAlertmanager, am(`{"status":"firing","startsAt":"yesterday"}`), "alerts[0].startsAt", []string{`"yesterday"`, "RFC 3339"}},
		{"bad endsAt", SourceAlertmanager, am(`{"status":"resolved","endsAt":"2026-13-01T00:00:00Z"}`), "alerts[0].endsAt", []string{"RFC 3339"}},
		{"label not a string", SourceAlertmanager, am(`{"status":"firing","labels":{"n":5}}`), "alerts.labels", []string{"is a JSON number", "want a string"}},
		{"labels not an object", SourceAlertmanager, am(`{"status":"firing","labels":[]}`), "alerts.labels", []string{"want an object of strings"}},
		{"alerts not an array", SourceGrafana, `{"alerts":{}}`, "alerts", []string{"want an array"}},
		{"grafana no alerts", SourceGrafana, `{"receiver":"x","orgId":1}`, "alerts", []string{"missing"}},
		{"grafana bad status", SourceGrafana, `{"orgId":1,"alerts":[{"status":"alerting"}]}`, "alerts[0].status", []string{`"alerting"`}},
		{"nodeping no id", SourceNodePing, `{"event":"Down","label":"x"}`, "id", []string{`"id":"{_id}"`}},
		{"nodeping unfilled id", SourceNodePing, `{"event":"Down","id":"{_id}"}`, "id", []string{"missing"}},
		{"nodeping no event", SourceNodePing, `{"id":"X"}`, "event", []string{`"event":"{event}"`}},
		{"nodeping bad event", SourceNodePing, `{"id":"X","event":"maybe"}`, "event", []string{`"maybe"`, "Down or Up"}},
		{"nodeping object value", SourceNodePing, `{"id":"X","event":"Down","label":{"a":1}}`, "label", []string{"object or array"}},
		{"nodeping not JSON", SourceNodePing, `event=down&id=X`, "body", []string{"not JSON", "README"}},
		{"kuma form data", SourceUptimeKuma, `data={"heartbeat":{}}`, "body", []string{"not JSON", "application/json"}},
		{"kuma no heartbeat", SourceUptimeKuma, `{}`, "heartbeat", []string{"missing"}},
		{"kuma no status", SourceUptimeKuma, `{"heartbeat":{"monitorID":1},"monitor":{"id":1}}`, "heartbeat.status", []string{"0 (DOWN) or 1 (UP)"}},
		{"kuma bad status", SourceUptimeKuma, `{"heartbeat":{"status":7},"monitor":{"id":1}}`, "heartbeat.status", []string{`"7"`, "3 MAINTENANCE"}},
		{"kuma no monitor id", SourceUptimeKuma, `{"heartbeat":{"status":0},"monitor":{"name":"x"}}`, "monitor.id", []string{"missing"}},
		{"kuma time not a string", SourceUptimeKuma, `{"heartbeat":{"status":0,"time":5},"monitor":{"id":1}}`, "heartbeat.time", []string{"want a string"}},
		{"generic no key", SourceGeneric, `{"status":"firing","title":"t"}`, "dedup_key", []string{"missing", "stays the same"}},
		{"generic no status", SourceGeneric, `{"dedup_key":"k","title":"t"}`, "status", []string{`"firing" or "resolved"`}},
		{"generic bad status", SourceGeneric, `{"dedup_key":"k","status":"open","title":"t"}`, "status", []string{`"open"`}},
		{"generic no title", SourceGeneric, `{"dedup_key":"k","status":"firing"}`, "title", []string{"needs a title"}},
		{"generic typo", SourceGeneric, `{"dedupkey":"k","status":"firing","title":"t"}`, "dedupkey", []string{"not a field of the generic alert"}},
		{"generic array index", SourceGeneric, `[{"dedup_key":"a","status":"resolved"},{"dedup_key":"b","status":"firing"}]`, "[1].title", []string{"needs a title"}},
		{"generic bad time", SourceGeneric, `{"dedup_key":"k","status":"resolved","ends_at":"26.11.2026 02:00"}`, "ends_at", []string{`"26.11.2026 02:00"`, "RFC 3339"}},
		{"generic empty array", SourceGeneric, `[]`, "alerts", []string{"no alerts"}},
		{"generic invisible key", SourceGeneric, `{"dedup_key":"\u200e\u0007","status":"firing","title":"t"}`, "dedup_key", []string{"empty once"}},
		{"generic invisible key in an array", SourceGeneric, `[{"dedup_key":"a","status":"resolved"},{"dedup_key":"\u202e","status":"resolved"}]`, "alert 2: dedup_key", []string{"empty once"}},
		{"kuma invisible monitor id", SourceUptimeKuma, `{"heartbeat":{"status":0},"monitor":{"id":"\u2066"}}`, "monitor.id", []string{"empty once"}},
		{"generic scalar", SourceGeneric, `"firing"`, "body", []string{"want an object"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			as, err := Parse(c.source, []byte(c.body))
			if as != nil {
				t.Errorf("got alerts %v with the error", as)
			}
			wantInput(t, err, c.source, c.field, c.msg...)
		})
	}
}

func TestNagiosErrors(t *testing.T) {
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	none := env()
	for _, c := range []struct {
		name   string
		getenv func(string) string
		args   []string
		field  string
		msg    []string
	}{
		{"nothing", none, nil, "NAGIOS_NOTIFICATIONTYPE", []string{"enable_environment_macros=1", `"$NOTIFICATIONTYPE$"`}},
		{"too few args", none, []string{"PROBLEM", "mail1", "IMAP"}, "arguments", []string{"3 arguments, want 5 or 6"}},
		{"too many args", none, []string{"PROBLEM", "mail1", "IMAP", "CRITICAL", "1", "out", "put"}, "arguments", []string{"7 arguments", "quote every macro"}},
		{"unknown type", none, []string{"PROBLEMATIC", "mail1", "IMAP", "CRITICAL", "1"}, "argument 1 (NOTIFICATIONTYPE)", []string{`"PROBLEMATIC"`, "PROBLEM, RECOVERY"}},
		{"unexpanded type", none, []string{"$NOTIFICATIONTYPE$", "mail1", "IMAP", "CRITICAL", "1"}, "argument 1 (NOTIFICATIONTYPE)", []string{"missing"}},
		{"no host", none, []string{"PROBLEM", "", "IMAP", "CRITICAL", "1"}, "argument 2 (HOSTNAME)", []string{"no host"}},
		{"bad service state", none, []string{"PROBLEM", "mail1", "IMAP", "DOWN", "1"}, "argument 4 (SERVICESTATE)", []string{`"DOWN" is not a state`, "OK, WARNING, CRITICAL or UNKNOWN"}},
		{"bad host state", none, []string{"PROBLEM", "mail1", "", "CRITICAL", "1"}, "argument 4 (HOSTSTATE)", []string{"UP, DOWN or UNREACHABLE"}},
		{"env: no state", env("NAGIOS_NOTIFICATIONTYPE", "PROBLEM", "NAGIOS_HOSTNAME", "mail1", "NAGIOS_SERVICEDESC", "IMAP"), nil,
			"NAGIOS_SERVICESTATE", []string{"missing"}},
		{"env: bad time", env("NAGIOS_NOTIFICATIONTYPE", "PROBLEM", "NAGIOS_HOSTNAME", "mail1", "NAGIOS_HOSTSTATE", "DOWN", "NAGIOS_LASTHOSTSTATECHANGE", "yesterday"), nil,
			"NAGIOS_LASTHOSTSTATECHANGE", []string{`"yesterday" is not a Unix time`}},
		{"env: milliseconds", env("NAGIOS_NOTIFICATIONTYPE", "PROBLEM", "NAGIOS_HOSTNAME", "mail1", "NAGIOS_HOSTSTATE", "DOWN", "NAGIOS_TIMET", "1795658400000"), nil,
			"NAGIOS_TIMET", []string{"in seconds"}},
		{"env wins over args", env("NAGIOS_NOTIFICATIONTYPE", "BOGUS"), []string{"PROBLEM", "mail1", "IMAP", "CRITICAL", "1"},
			"NAGIOS_NOTIFICATIONTYPE", []string{`"BOGUS"`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := FromNagios(c.getenv, c.args)
			wantInput(t, err, SourceNagios, c.field, c.msg...)
		})
	}
}

func TestCheckmkErrors(t *testing.T) {
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m["NOTIFY_"+kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	for _, c := range []struct {
		name   string
		getenv func(string) string
		field  string
		msg    []string
	}{
		{"no environment", env(), "NOTIFY_NOTIFICATIONTYPE", []string{"notification script"}},
		{"no type", env("HOSTNAME", "mail1"), "NOTIFY_NOTIFICATIONTYPE", []string{"missing"}},
		{"bad what", env("NOTIFICATIONTYPE", "PROBLEM", "HOSTNAME", "mail1", "WHAT", "CLUSTER"), "NOTIFY_WHAT", []string{`"CLUSTER"`, "HOST or SERVICE"}},
		{"service without desc", env("NOTIFICATIONTYPE", "PROBLEM", "HOSTNAME", "mail1", "WHAT", "SERVICE"), "NOTIFY_SERVICEDESC", []string{"SERVICE notification"}},
		{"bad state", env("NOTIFICATIONTYPE", "PROBLEM", "HOSTNAME", "mail1", "SERVICEDESC", "CPU", "SERVICESTATE", "BAD"), "NOTIFY_SERVICESTATE", []string{`"BAD"`}},
		{"bad microtime", env("NOTIFICATIONTYPE", "PROBLEM", "HOSTNAME", "mail1", "HOSTSTATE", "DOWN", "MICROTIME", "12.5"), "NOTIFY_MICROTIME", []string{"Unix time"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := FromCheckmk(c.getenv)
			wantInput(t, err, SourceCheckmk, c.field, c.msg...)
		})
	}
}

func TestCheckmkBulkErrors(t *testing.T) {
	ok := "\nWHAT=HOST\nNOTIFICATIONTYPE=PROBLEM\nHOSTNAME=mx1\nHOSTSTATE=DOWN\n"
	for _, c := range []struct {
		name, stdin, field string
		msg                []string
	}{
		{"empty", "", "stdin", []string{"no notifications"}},
		{"parameters only", "PARAMETER_1=x\n", "stdin", []string{"no notifications"}},
		{"not NAME=VALUE", "PARAMETER_1=x\n\nWHAT=HOST\ngarbage\n", "stdin line 4", []string{`"garbage" is not NAME=VALUE`}},
		{"empty name", "\n=value\n", "stdin line 2", []string{"not NAME=VALUE"}},
		{"bad second notification", ok + "\nWHAT=HOST\nNOTIFICATIONTYPE=PROBLEM\nHOSTNAME=mx2\nHOSTSTATE=SIDEWAYS\n", "notification 2: HOSTSTATE", []string{`"SIDEWAYS"`}},
		{"too many", strings.Repeat(ok, MaxAlerts+1), "alerts", []string{"1001 alerts"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := FromCheckmkBulk([]byte(c.stdin))
			wantInput(t, err, SourceCheckmk, c.field, c.msg...)
		})
	}
}

// TestIgnored: notifications that are neither problem nor recovery come back
// as *Ignored, never as alerts and never as input errors.
func TestIgnored(t *testing.T) {
	for _, typ := range []string{"ACKNOWLEDGEMENT", "FLAPPINGSTART", "FLAPPINGSTOP", "FLAPPINGDISABLED",
		"DOWNTIMESTART", "DOWNTIMEEND", "DOWNTIMECANCELLED", "CUSTOM", "ALERTHANDLER (OK)", "acknowledgement (CRIT)"} {
		t.Run(typ, func(t *testing.T) {
			for name, run := range map[string]func() ([]Alert, error){
				"nagios args": func() ([]Alert, error) {
					return FromNagios(func(string) string { return "" }, []string{typ, "mail1", "IMAP", "CRITICAL", "7"})
				},
				"checkmk": func() ([]Alert, error) {
					return FromCheckmk(func(k string) string {
						return map[string]string{"NOTIFY_NOTIFICATIONTYPE": typ, "NOTIFY_HOSTNAME": "mail1", "NOTIFY_HOSTSTATE": "DOWN"}[k]
					})
				},
			} {
				as, err := run()
				var ig *Ignored
				if !errors.As(err, &ig) || as != nil {
					t.Fatalf("%s: got %v, %v; want *Ignored", name, as, err)
				}
				if !strings.Contains(ig.Error(), "nothing to record") {
					t.Errorf("%s: %q", name, ig)
				}
			}
		})
	}
	for i, body := range []string{
		`{"heartbeat":{"status":2,"monitorID":1},"monitor":{"id":1}}`,
		`{"heartbeat":{"status":"3","monitorID":1},"monitor":{"id":1}}`,
		`{"heartbeat":null,"monitor":null,"msg":"Uptime Kuma Testing"}`,
	} {
		if _, err := Parse(SourceUptimeKuma, []byte(body)); !errors.As(err, new(*Ignored)) {
			t.Errorf("kuma %d: got %v, want *Ignored", i, err)
		}
	}
	mixed := "\nNOTIFICATIONTYPE=ACKNOWLEDGEMENT\nHOSTNAME=a\n\nNOTIFICATIONTYPE=DOWNTIMESTART\nHOSTNAME=b\n"
	_, err := FromCheckmkBulk([]byte(mixed))
	if ig := (*Ignored)(nil); !errors.As(err, &ig) || !strings.Contains(ig.Reason, "ACKNOWLEDGEMENT notification, DOWNTIMESTART notification") {
		t.Errorf("bulk of ignored: got %v", err)
	}
}

// TestRecoveryFindsItsProblem: for every notification source, a problem and
// its recovery share Key and Group, however the source moves its ids.
func TestRecoveryFindsItsProblem(t *testing.T) {
	nagios := func(env map[string]string) func(string) string { return func(k string) string { return env[k] } }
	pairs := []struct {
		name              string
		problem, recovery func() ([]Alert, error)
	}{
		{"nagios env",
			func() ([]Alert, error) {
				return FromNagios(nagios(map[string]string{"NAGIOS_NOTIFICATIONTYPE": "PROBLEM", "NAGIOS_HOSTNAME": "h/1", "NAGIOS_SERVICEDESC": "Disk /var",
					"NAGIOS_SERVICESTATE": "WARNING", "NAGIOS_SERVICEPROBLEMID": "31", "NAGIOS_LASTSERVICEPROBLEMID": "12"}), nil)
			},
			func() ([]Alert, error) {
				return FromNagios(nagios(map[string]string{"NAGIOS_NOTIFICATIONTYPE": "RECOVERY", "NAGIOS_HOSTNAME": "h/1", "NAGIOS_SERVICEDESC": "Disk /var",
					"NAGIOS_SERVICESTATE": "OK", "NAGIOS_LASTSERVICESTATE": "WARNING", "NAGIOS_SERVICEPROBLEMID": "0", "NAGIOS_LASTSERVICEPROBLEMID": "31"}), nil)
			}},
		{"checkmk short states",
			func() ([]Alert, error) {
				return FromCheckmk(nagios(map[string]string{"NOTIFY_NOTIFICATIONTYPE": "PROBLEM", "NOTIFY_HOSTNAME": "h", "NOTIFY_HOSTSHORTSTATE": "UNREACH",
					"NOTIFY_HOSTPROBLEMID": "40"}))
			},
			func() ([]Alert, error) {
				return FromCheckmk(nagios(map[string]string{"NOTIFY_NOTIFICATIONTYPE": "RECOVERY", "NOTIFY_HOSTNAME": "h", "NOTIFY_HOSTSTATE": "UP",
					"NOTIFY_HOSTPROBLEMID": "0", "NOTIFY_LASTHOSTPROBLEMID": "40", "NOTIFY_LASTHOSTSTATE": "UNREACHABLE"}))
			}},
	}
	for _, p := range pairs {
		t.Run(p.name, func(t *testing.T) {
			pa, err := p.problem()
			if err != nil {
				t.Fatal(err)
			}
			ra, err := p.recovery()
			if err != nil {
				t.Fatal(err)
			}
			if !pa[0].Firing || ra[0].Firing {
				t.Fatalf("firing: problem %v, recovery %v", pa[0].Firing, ra[0].Firing)
			}
			if pa[0].Key != ra[0].Key || pa[0].Group != ra[0].Group || pa[0].Group == "" {
				t.Errorf("problem %q/%q, recovery %q/%q", pa[0].Key, pa[0].Group, ra[0].Key, ra[0].Group)
			}
			if pa[0].Severity != ra[0].Severity {
				t.Errorf("severity: problem %q, recovery %q (from the last state)", pa[0].Severity, ra[0].Severity)
			}
		})
	}
}

// TestStates: one word per state, whichever spelling the source uses.
func TestStates(t *testing.T) {
	for word, want := range map[string]State{
		"CRIT": StateCritical, "CRITICAL": StateCritical, "critical": StateCritical,
		"WARN": StateWarning, "WARNING": StateWarning, "UNKN": StateUnknown, "UNKNOWN": StateUnknown,
		"UNREACH": StateUnreachable, "UNREACHABLE": StateUnreachable, " DOWN ": StateDown,
		"UP": StateUp, "OK": StateOK, "PENDING": StatePending, "MAINTENANCE": StateMaintenance,
	} {
		if got, ok := ParseState(word); !ok || got != want {
			t.Errorf("ParseState(%q) = %q, %v; want %q", word, got, ok, want)
		}
	}
	for _, word := range []string{"", "CRITICALLY", "0", "FLAPPING"} {
		if got, ok := ParseState(word); ok {
			t.Errorf("ParseState(%q) = %q, want not ok", word, got)
		}
	}
	for n, want := range []State{StateDown, StateUp, StatePending, StateMaintenance} {
		if got, ok := KumaState(n); !ok || got != want {
			t.Errorf("KumaState(%d) = %q, %v; want %q", n, got, ok, want)
		}
	}
	for _, n := range []int{-1, 4} {
		if _, ok := KumaState(n); ok {
			t.Errorf("KumaState(%d) ok", n)
		}
	}
	for s, want := range map[State]bool{StateOK: false, StateUp: false, StatePending: false, StateMaintenance: false,
		StateWarning: true, StateCritical: true, StateUnknown: true, StateDown: true, StateUnreachable: true} {
		if s.Problem() != want {
			t.Errorf("%s.Problem() = %v", s, !want)
		}
	}
}

func ExampleParse() {
	as, err := Parse(SourceGeneric, []byte(`{"dedup_key":"backup/db1","status":"firing","title":"Backup of db1 failed","severity":"Critical"}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(as[0].Source, as[0].Key, as[0].Firing, as[0].Severity, as[0].Summary)
	_, err = Parse(SourceGeneric, []byte(`{"status":"firing","title":"x"}`))
	fmt.Println(err)
	// Output:
	// generic backup/db1 true critical Backup of db1 failed
	// generic: dedup_key: missing; every alert needs a dedup_key that stays the same from firing to resolved
}
