package alerts

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCleanURL(t *testing.T) {
	for raw, want := range map[string]string{
		"https://grafana.example.net/alerting/1/edit":      "https://grafana.example.net/alerting/1/edit",
		"HTTP://am.example.net:9093/#/alerts":              "http://am.example.net:9093/#/alerts",
		"  https://x.example/a?b=c&d=e  ":                  "https://x.example/a?b=c&d=e",
		"https://admin:hunter2@grafana.example.net/d":      "https://grafana.example.net/d",
		"javascript:alert(1)":                              "",
		"data:text/html,<script>":                          "",
		"ftp://files.example.net/report":                   "",
		"file:///etc/passwd":                               "",
		"https://":                                         "",
		"/check_mk/index.py":                               "",
		"//evil.example/x":                                 "",
		"https://x.example/\u0000":                         "",
		"https://x.example/\nSet-Cookie: a":                "",
		"https://x.example/" + strings.Repeat("a", MaxURL): "",
		"http:evil.example":                                "",
	} {
		if got := cleanURL(raw); got != want {
			t.Errorf("cleanURL(%q) = %q, want %q", raw, got, want)
		}
	}
}

func TestCleanText(t *testing.T) {
	for _, c := range []struct{ in, line, text string }{
		{"IMAP\tdown\r\nsince 02:00", "IMAP down since 02:00", "IMAP\tdown\nsince 02:00"},
		{"bell\a esc\x1b[31m red\x7f del\u0085 nel", "bell esc [31m red del nel", "bell esc[31m red del nel"},
		{"abc\u202egnp.exe \u2066x\u2069", "abc gnp.exe x", "abcgnp.exe x"},
		{"bad \xff utf8", "bad \uFFFD utf8", "bad \uFFFD utf8"},
		{"  lots   of\n\n space  \n", "lots of space", "  lots   of\n\n space"},
		{"line\u2028sep", "line sep", "line\nsep"},
		{"emoji 🔴 and ZWJ 👩‍💻 stay", "emoji 🔴 and ZWJ 👩‍💻 stay", "emoji 🔴 and ZWJ 👩‍💻 stay"},
	} {
		if got := cleanLine(c.in); got != c.line {
			t.Errorf("cleanLine(%q) = %q, want %q", c.in, got, c.line)
		}
		if got := cleanText(c.in); got != c.text {
			t.Errorf("cleanText(%q) = %q, want %q", c.in, got, c.text)
		}
	}
}

func TestTruncate(t *testing.T) {
	for _, c := range []struct {
		in   string
		max  int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"eleven chars", 10, "eleven…"},
		{"ééééé", 8, "éé…"}, // 10 bytes; cut on a rune boundary
		{"日本語テキスト", 9, "日本…"},
	} {
		got := truncate(c.in, c.max)
		if got != c.want || len(got) > c.max || !utf8.ValidString(got) {
			t.Errorf("truncate(%q, %d) = %q, want %q", c.in, c.max, got, c.want)
		}
	}
}

// TestLongKeys: a key over MaxName keeps its start, and two long keys that
// differ only at the end stay distinct; the same key maps the same way.
func TestLongKeys(t *testing.T) {
	base := strings.Repeat("k", 300)
	a, b := cleanKey(base+"a"), cleanKey(base+"b")
	if len(a) > MaxName || len(b) > MaxName || a == b || !strings.HasPrefix(a, "kkkk") {
		t.Fatalf("long keys: %q, %q", a, b)
	}
	if cleanKey(base+"a") != a {
		t.Error("the same key maps two ways")
	}
	if got := cleanKey("fbab788ec4c1018b"); got != "fbab788ec4c1018b" {
		t.Errorf("short key changed: %q", got)
	}
	multi := cleanKey(strings.Repeat("日", 100))
	if !utf8.ValidString(multi) || len(multi) > MaxName {
		t.Errorf("multibyte key: %q", multi)
	}
}

func TestCleanLabels(t *testing.T) {
	in := map[string]string{"": "dropped", " \x00 ": "dropped too", "zone\n": "eu\t1", strings.Repeat("n", 300): strings.Repeat("v", 2000)}
	for i := range 100 {
		in[fmt.Sprintf("l%03d", i)] = "x"
	}
	out := cleanLabels(in)
	if len(out) != MaxLabels {
		t.Fatalf("%d labels, want %d", len(out), MaxLabels)
	}
	if _, ok := out["l000"]; !ok {
		t.Error("the first labels in name order are kept")
	}
	if _, ok := out[""]; ok {
		t.Error("empty label name kept")
	}
	for k, v := range out {
		if len(k) > MaxName || len(v) > MaxText || strings.ContainsAny(k+v, "\n\t\x00") {
			t.Errorf("label %q=%q", k, v)
		}
	}
	if got := cleanLabels(map[string]string{"zone\n": "eu\t1"}); got["zone"] != "eu 1" {
		t.Errorf("labels %v", got)
	}
	if cleanLabels(map[string]string{"": "x"}) != nil {
		t.Error("no labels left should be nil")
	}
}

// TestHostilePayloads: what a hostile or broken sender puts in a payload is
// capped and cleaned on the way out of every JSON source.
func TestHostilePayloads(t *testing.T) {
	huge := strings.Repeat("A\u202e\x1b[2J", 2000)
	labels := map[string]string{}
	for i := range 200 {
		labels[fmt.Sprintf("label%03d\x07", i)] = huge
	}
	lj, _ := json.Marshal(labels)
	hj, _ := json.Marshal(huge)
	h := string(hj)
	for source, body := range map[string]string{
		SourceAlertmanager: `{"version":"4","groupKey":` + h + `,"alerts":[{"status":"firing","labels":` + string(lj) +
			`,"annotations":{"summary":` + h + `,"description":` + h + `},"generatorURL":"javascript:alert(1)","fingerprint":` + h + `}]}`,
		SourceGrafana: `{"orgId":1,"groupKey":` + h + `,"alerts":[{"status":"resolved","labels":` + string(lj) +
			`,"annotations":{"summary":` + h + `},"generatorURL":"https://u:p@g.example/x","fingerprint":"f"}]}`,
		SourceNodePing:   `{"event":"Down","id":` + h + `,"label":` + h + `,"message":` + h + `,"description":` + h + `}`,
		SourceUptimeKuma: `{"heartbeat":{"status":0,"msg":` + h + `},"monitor":{"id":1,"name":` + h + `,"url":"data:x","tags":[{"name":` + h + `,"value":` + h + `}]},"msg":` + h + `}`,
		SourceGeneric:    `{"dedup_key":` + h + `,"status":"firing","title":` + h + `,"description":` + h + `,"severity":` + h + `,"labels":` + string(lj) + `}`,
	} {
		t.Run(source, func(t *testing.T) {
			as, err := Parse(source, []byte(body))
			if err != nil {
				t.Fatal(err)
			}
			checkInvariants(t, as)
			if as[0].URL != "" && !strings.HasPrefix(as[0].URL, "https://g.example") {
				t.Errorf("url %q", as[0].URL)
			}
		})
	}
}

// TestFingerprint: the fingerprint of a label set is Alertmanager's, as
// recorded from Alertmanager 0.25 (testdata/alertmanager/am-0.25-mixed.json).
func TestFingerprint(t *testing.T) {
	for want, labels := range map[string]map[string]string{
		"116812088a15e157": {"alertname": "IMAPDown", "instance": "imap1.example.net:993", "job": "blackbox-imap", "severity": "critical"},
		"f34dcffc4867a478": {"alertname": "IMAPDown", "instance": "imap2.example.net:993", "job": "blackbox-imap", "severity": "critical"},
		"cbf29ce484222325": {},
	} {
		if got := fingerprint(labels); got != want {
			t.Errorf("fingerprint(%v) = %s, want %s", labels, got, want)
		}
	}
}
