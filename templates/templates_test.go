package templates

import (
	stdhtml "html"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/rivo/uniseg"

	"github.com/incident-cli/incident/internal/golden"
)

func zones(t *testing.T) []*time.Location {
	t.Helper()
	oslo, err := time.LoadLocation("Europe/Oslo")
	if err != nil {
		t.Fatal(err)
	}
	return []*time.Location{oslo, time.UTC}
}

// sample is an incident across a day boundary: it starts at 23:40 Oslo time.
func sample() *Data {
	start := time.Date(2026, 11, 27, 22, 40, 0, 0, time.UTC)
	d := &Data{
		Organization: "Example Mail",
		Incident: Incident{ID: "2026-11-27-imap-pop-login-failures", Title: "IMAP/POP login failures", Status: "identified",
			Severity: "major", Services: []Service{{"imap", "IMAP/POP"}, {"smtp", "Outgoing mail (SMTP)"}}, Accounts: 1200,
			StartedAt: start, OpenedAt: start.Add(6 * time.Minute)},
		URL:     "https://status.example.com/incidents/2026-11-27-imap-pop-login-failures.html",
		Cadence: 30 * time.Minute,
	}
	d.Updates = []Update{
		{Number: 1, Status: "investigating", Message: "We are investigating reports of IMAP and POP login failures.", Author: "alice", At: start.Add(6 * time.Minute)},
		{Number: 2, Status: "identified", Message: "A brute-force attack overloads the IMAP servers.\n\nWe are blocking the attacking networks.", Author: "bob", At: start.Add(41 * time.Minute)},
	}
	d.Update = d.Updates[1]
	return d
}

func TestDefaultTemplatesGolden(t *testing.T) {
	set, err := Load("", zones(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{StatusFile, TitleFile, ForumFile, SocialFile, MessageFile, EmailFile} {
		got, err := set.Render(name, sample())
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		golden.Assert(t, name+".golden", got)
	}
	html, err := Markdown(mustRender(t, set, StatusFile, sample()))
	if err != nil {
		t.Fatal(err)
	}
	golden.Assert(t, "status.html.golden", html)

	d := sample()
	d.Incident.Status, d.Incident.ResolvedAt = "resolved", d.Incident.StartedAt.Add(95*time.Minute)
	d.RFOURL = "https://status.example.com/incidents/2026-11-27-imap-pop-login-failures-rfo.html"
	d.RFO = &RFO{Summary: "IMAP and POP logins failed for 95 minutes.", RootCause: "A brute-force attack.",
		Mitigation: "We blocked the attacking networks.", FollowUp: "- Rate limits per network (Alice, 4 Dec)",
		Timeline:         []TimelineEntry{{At: d.Incident.StartedAt, Text: "The problem began."}, {At: d.Incident.ResolvedAt, Text: "Resolved."}},
		FirstUpdateAfter: 6 * time.Minute, UpdateCount: 3, LongestGap: 35 * time.Minute, Cadence: 30 * time.Minute, Duration: 95 * time.Minute}
	for _, name := range []string{RFOFile, TitleFile, SocialFile, ForumFile, EmailFile} {
		golden.Assert(t, "rfo-"+name+".golden", mustRender(t, set, name, d))
	}
}

func mustRender(t *testing.T, set *Set, name string, d *Data) string {
	t.Helper()
	s, err := set.Render(name, d)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestOverrides(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "social.txt.tmpl"), []byte(`{{ .Incident.Title }} -> {{ .URL }}`), 0o644)
	os.WriteFile(filepath.Join(dir, "broken.txt.tmpl"), []byte(`{{ .Incident.Nope }}`), 0o644)
	set, err := Load(dir, zones(t))
	if err != nil {
		t.Fatal(err)
	}
	got := mustRender(t, set, SocialFile, sample())
	if got != "IMAP/POP login failures -> "+sample().URL+"\n" {
		t.Errorf("override not used: %q", got)
	}
	_, err = set.Render("broken.txt.tmpl", sample())
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "broken.txt.tmpl")) || !strings.Contains(err.Error(), "Nope") {
		t.Errorf("err = %v, want it to name the file and field", err)
	}
	os.WriteFile(filepath.Join(dir, "bad.txt.tmpl"), []byte(`{{ if }}`), 0o644)
	if _, err := Load(dir, nil); err == nil || !strings.Contains(err.Error(), "bad.txt.tmpl") {
		t.Errorf("parse error = %v", err)
	}
}

// xssVectors are classic payloads (from the OWASP XSS filter evasion cheat
// sheet and the html5sec list) a responder might paste, by mistake or not.
var xssVectors = []string{
	`<script>alert(1)</script>`,
	`"><img src=x onerror=alert(1)>`,
	`<img src="javascript:alert('XSS');">`,
	`<svg/onload=alert(1)>`,
	`<iframe src="javascript:alert(1)"></iframe>`,
	`[click](javascript:alert(1))`,
	`[click](JaVaScRiPt:alert(1))`,
	`[click](vbscript:msgbox(1))`,
	`[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)`,
	`![x](javascript:alert(1))`,
	`<a href="javascript:alert(1)">x</a>`,
	`<body onload=alert(1)>`,
	`<div style="background:url(javascript:alert(1))">`,
	`<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>`,
	`<!--<script>-->alert(1)`,
	`<details open ontoggle=alert(1)>`,
	"<scr<script>ipt>alert(1)</script>",
	`<a href="&#106;avascript:alert(1)">x</a>`,
	`[x](&#106;avascript:alert(1))`,
	"<object data=\"javascript:alert(1)\">",
	"`<script>`",
	"    <script>alert(1)</script>",
	"<https://example.com/\"onmouseover=\"alert(1)>",
	`<input autofocus onfocus=alert(1)>`,
}

var (
	tagRE     = regexp.MustCompile(`<([a-zA-Z][a-zA-Z0-9]*)([^>]*)>`)
	handlerRE = regexp.MustCompile(`(?i)\son[a-z]+\s*=`)
	schemeRE  = regexp.MustCompile(`^[a-z][a-z0-9+.-]*$`)
	// scriptSchemes run code or load a document of their own when followed.
	scriptSchemes = map[string]bool{"javascript": true, "vbscript": true, "data": true, "livescript": true, "mocha": true}
	urlAttrRE     = regexp.MustCompile(`(?i)\s(?:href|src)\s*=\s*"([^"]*)"`)
	safeTags      = map[string]bool{"p": true, "h1": true, "h2": true, "h3": true, "h4": true, "strong": true, "em": true, "del": true,
		"ul": true, "ol": true, "li": true, "code": true, "pre": true, "br": true, "hr": true, "a": true, "img": true,
		"blockquote": true, "table": true, "thead": true, "tbody": true, "tr": true, "th": true, "td": true}
)

// unsafeHTML says what in html could run script, or "" when nothing can:
// only known inert tags, no event handler attributes, no link or image
// target with a scheme that runs code (javascript:, vbscript:, data:).
func unsafeHTML(html string) string {
	for _, m := range tagRE.FindAllStringSubmatch(html, -1) {
		tag, attrs := strings.ToLower(m[1]), m[2]
		if !safeTags[tag] {
			return "tag <" + tag + ">"
		}
		if handlerRE.MatchString(attrs) {
			return "event handler in " + m[0]
		}
		for _, u := range urlAttrRE.FindAllStringSubmatch(attrs, -1) {
			// Browsers drop tabs and newlines in URLs and read entities.
			v := strings.ToLower(strings.TrimSpace(stdhtml.UnescapeString(strings.NewReplacer("\t", "", "\n", "", "\r", "").Replace(u[1]))))
			if i := strings.IndexAny(v, ":/?#"); i >= 0 && v[i] == ':' {
				scheme := v[:i]
				if schemeRE.MatchString(scheme) && scriptSchemes[scheme] {
					return "URL scheme " + scheme + " in " + m[0]
				}
			}
		}
	}
	return ""
}

func TestMarkdownEscapesEverythingTyped(t *testing.T) {
	for _, v := range xssVectors {
		html, err := Markdown("### Update\n\n" + v + "\n")
		if err != nil {
			t.Fatal(err)
		}
		if why := unsafeHTML(html); why != "" {
			t.Errorf("vector %q: %s in\n%s", v, why, html)
		}
	}
	// Ordinary Markdown still works.
	html, _ := Markdown("We **blocked** [the networks](https://example.com/x) & <3 Oslo")
	if !strings.Contains(html, `<a href="https://example.com/x">`) || !strings.Contains(html, "&amp; &lt;3") {
		t.Errorf("plain markdown broken: %s", html)
	}
}

func FuzzRender(f *testing.F) {
	for _, v := range xssVectors {
		f.Add(v, "IMAP <b>down</b>")
	}
	f.Add("{{ .Incident.Title }}", "{{")
	set, err := Load("", []*time.Location{time.UTC})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, message, title string) {
		d := sample()
		d.Update.Message, d.Updates[1].Message, d.Incident.Title = message, message, title
		for _, name := range []string{StatusFile, TitleFile, ForumFile, SocialFile, EmailFile} {
			s, err := set.Render(name, d)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if name == SocialFile || name == ForumFile || name == EmailFile {
				if !strings.Contains(s, d.URL) {
					t.Fatalf("%s lost the link: %q", name, s)
				}
			}
			html, err := Markdown(s)
			if err != nil {
				t.Fatal(err)
			}
			if why := unsafeHTML(html); why != "" {
				t.Fatalf("%s: %s in HTML:\n%s", name, why, html)
			}
		}
	})
}

func TestDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		20 * time.Second: "under a minute", 45 * time.Minute: "45 min", 2 * time.Hour: "2 h",
		125 * time.Minute: "2 h 5 min", 27 * time.Hour: "1 d 3 h", 48 * time.Hour: "2 d", -5 * time.Minute: "5 min",
	} {
		if got := Duration(d); got != want {
			t.Errorf("Duration(%v) = %q, want %q", d, got, want)
		}
	}
}

// TestMarkdownTemplatesEscapeTypedHTML: a Markdown template's output holds no
// raw HTML the responder typed, so a renderer that passes raw HTML through
// (Hugo with unsafe = true, a forum) still shows it as text; plain-text
// templates keep the text as typed.
func TestMarkdownTemplatesEscapeTypedHTML(t *testing.T) {
	set, err := Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	d := sample()
	d.Incident.Title = "IMAP <b>down</b>"
	d.Update.Message = `<script>alert(1)</script> and <img src=x onerror=alert(2)>`
	d.Updates[1].Message = d.Update.Message
	for _, name := range []string{StatusFile, ForumFile, EmailFile} {
		out := mustRender(t, set, name, d)
		if strings.Contains(out, "<script") || strings.Contains(out, "<img") || strings.Contains(out, "<b>") {
			t.Errorf("%s passes typed HTML through:\n%s", name, out)
		}
		html, _ := Markdown(out)
		if !strings.Contains(html, "&lt;script&gt;alert(1)&lt;/script&gt;") {
			t.Errorf("%s: the text is not shown as typed:\n%s", name, html)
		}
	}
	if out := mustRender(t, set, SocialFile, d); !strings.Contains(out, "<script>alert(1)</script>") {
		t.Errorf("plain text was escaped: %s", out)
	}
}

// TestTruncateKeepsURLsWhole checks that truncate drops a URL it cannot
// keep whole, instead of cutting it to something like "www.runbox.…".
func TestTruncateKeepsURLsWhole(t *testing.T) {
	for _, tc := range []struct {
		n          int
		text, want string
	}{
		{20, "short", "short"},
		{20, "Logins fail: see www.runbox.com/status for more", "Logins fail: see…"},
		{24, "Logins fail: see www.runbox.com/status for more", "Logins fail: see…"},
		{40, "Logins fail: see www.runbox.com/status for more", "Logins fail: see www.runbox.com/status…"},
		{30, "Details (https://status.example.com/i/1) follow", "Details…"},
		{12, "https://status.example.com/incidents/1", "…"},
		{30, "障害が発生しましたhttps://status.example.com/x詳細", "障害が発生しました…"},
		{14, "Version v1.2.3 e.g. broken everywhere", "Version v1.2.…"}, // no URL: cut anywhere
		{25, "Mail is slow. status.example.com/x", "Mail is slow.…"},
		{10, "IMAP/POP login failures", "IMAP/POP…"},
	} {
		got := truncate(tc.n, tc.text)
		if got != tc.want {
			t.Errorf("truncate(%d, %q) = %q, want %q", tc.n, tc.text, got, tc.want)
		}
		if uniseg.GraphemeClusterCount(got) > tc.n {
			t.Errorf("truncate(%d, %q) = %q: longer than %d", tc.n, tc.text, got, tc.n)
		}
	}
}

// FuzzTruncate checks that truncate's result fits, is a prefix of the text
// (plus "…"), and never ends inside a URL-like word of the text.
func FuzzTruncate(f *testing.F) {
	f.Add(20, "Logins fail: see www.runbox.com/status for more")
	f.Add(5, "https://a.co/x y")
	f.Fuzz(func(t *testing.T, n int, s string) {
		if n < 1 || n > 1000 || !utf8.ValidString(s) {
			return
		}
		got := truncate(n, s)
		if uniseg.GraphemeClusterCount(got) > n {
			t.Fatalf("truncate(%d, %q) = %q is too long", n, s, got)
		}
		if got == s {
			return
		}
		kept, ok := strings.CutSuffix(got, "…")
		trimmed := strings.TrimLeftFunc(s, unicode.IsSpace)
		if !ok || !strings.HasPrefix(trimmed, kept) {
			t.Fatalf("truncate(%d, %q) = %q is not a prefix and …", n, s, got)
		}
		for _, w := range urlWords(s) {
			if end := len(s) - len(trimmed) + len(kept); w[0] < end && end < w[1] {
				t.Fatalf("truncate(%d, %q) = %q cuts the URL %q", n, s, got, s[w[0]:w[1]])
			}
		}
	})
}

// TestStatusRelated: the canonical post names related incidents with a
// link and their date; their titles are escaped like everything typed.
func TestStatusRelated(t *testing.T) {
	set, err := Load("", zones(t))
	if err != nil {
		t.Fatal(err)
	}
	d := sample()
	d.Incident.Related = []Related{
		{ID: "2026-11-20-imap", Title: "IMAP <b>login</b> failures", URL: "https://status.example.com/incidents/2026-11-20-imap.html", StartedAt: time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)},
		{ID: "2026-11-24-imap", Title: "IMAP again", StartedAt: time.Date(2026, 11, 24, 23, 30, 0, 0, time.UTC)},
	}
	got := mustRender(t, set, StatusFile, d)
	want := "  \n**Related:** [IMAP &lt;b>login&lt;/b> failures](https://status.example.com/incidents/2026-11-20-imap.html) (2026-11-20), IMAP again (2026-11-25)\n"
	if !strings.Contains(got, want) {
		t.Errorf("status post lacks %q:\n%s", want, got)
	}
	html, err := Markdown(got)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(html, `<strong>Related:</strong> <a href="https://status.example.com/incidents/2026-11-20-imap.html">IMAP &lt;b&gt;login&lt;/b&gt; failures</a> (2026-11-20)`) {
		t.Errorf("HTML:\n%s", html)
	}
	if strings.Contains(html, "<b>") {
		t.Error("a related title's tag is live")
	}
}
