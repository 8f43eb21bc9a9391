//go:build integration

// Integration test against a real WordPress (Debian's package, started by
// .ci/services). It runs only with `-tags integration` and the variables
// .ci/services writes; with INCIDENT_IT_REQUIRE set (CI) their absence fails
// the test instead of skipping it:
//
//	bash .ci/services /tmp/it.env && . /tmp/it.env
//	go test -tags integration ./publishers/wordpress/ -run Integration -v
package wordpress_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/incident-cli/incident/publishers"
	"github.com/incident-cli/incident/publishers/publisherstest"
	"github.com/incident-cli/incident/publishers/wordpress"
	"github.com/incident-cli/incident/templates"
)

// itAccount is a WordPress user with an application password, named by the
// environment variables that hold them.
type itAccount struct {
	name, userVar, passwordVar string
}

func TestIntegrationWordPress(t *testing.T) {
	base := os.Getenv("INCIDENT_IT_WP_URL")
	if base == "" || os.Getenv("INCIDENT_IT_WP_USER") == "" || os.Getenv("INCIDENT_IT_WP_APP_PASSWORD") == "" {
		itSkip(t, "INCIDENT_IT_WP_URL, INCIDENT_IT_WP_USER and INCIDENT_IT_WP_APP_PASSWORD are not set: run `bash .ci/services /tmp/it.env && . /tmp/it.env` first")
	}
	accounts := []itAccount{
		{"administrator", "INCIDENT_IT_WP_USER", "INCIDENT_IT_WP_APP_PASSWORD"},
		{"author", "INCIDENT_IT_WP_AUTHOR_USER", "INCIDENT_IT_WP_AUTHOR_APP_PASSWORD"},
	}
	for _, a := range accounts {
		t.Run(a.name, func(t *testing.T) {
			if os.Getenv(a.userVar) == "" || os.Getenv(a.passwordVar) == "" {
				itSkip(t, a.userVar+" and "+a.passwordVar+" are not set")
			}
			itWordPressFlow(t, base, a)
		})
	}
	t.Run("wrong password", func(t *testing.T) {
		t.Setenv("INCIDENT_IT_WP_WRONG_PASSWORD", "abcd efgh ijkl mnop qrst uvwx")
		ch := itChannel(t, base, os.Getenv("INCIDENT_IT_WP_USER"), "INCIDENT_IT_WP_WRONG_PASSWORD")
		_, err := ch.(publishers.Verifier).Verify(context.Background())
		if err == nil {
			t.Fatal("Verify with a wrong application password succeeded")
		}
		t.Logf("wrong password: %v", err)
		// WordPress 6.1 answers 401 rest_not_logged_in here (not
		// incorrect_password); what matters is the status, WordPress's own
		// message with its code, and the hint naming the variable.
		if !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), "[rest_") && !strings.Contains(err.Error(), "[incorrect_password]") ||
			!strings.Contains(err.Error(), "INCIDENT_IT_WP_WRONG_PASSWORD") || publishers.Retryable(err) {
			t.Errorf("error %q: want a permanent 401 with WordPress's message and code and the hint naming the variable", err)
		}
		publisherstest.AssertNoSecret(t, err.Error(), "abcd efgh ijkl mnop qrst uvwx")
	})
}

// itSkip skips the test, or fails it when INCIDENT_IT_REQUIRE is set (CI,
// which must prove the integration).
func itSkip(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("INCIDENT_IT_REQUIRE") != "" {
		t.Fatal("INCIDENT_IT_REQUIRE is set but " + why)
	}
	t.Skip(why)
}

func itChannel(t *testing.T, base, user, passwordVar string) publishers.Publisher {
	t.Helper()
	prim, md := publisherstest.Decode(t, fmt.Sprintf("name = \"blog\"\nurl = %q\nusername = %q\npassword = \"env:%s\"\n", base, user, passwordVar))
	env := publisherstest.Env(t, "blog", nil)
	env.Secrets = &publishers.Resolver{Getenv: os.Getenv}
	env.HTTP = &http.Client{Timeout: 60 * time.Second} // php -S on a busy 2-core machine
	env.Now = time.Now
	ch, err := wordpress.New(prim, md, env)
	if err != nil {
		t.Fatalf("wordpress.New: %v", err)
	}
	return ch
}

// itWordPressFlow publishes a whole incident as one account: the first
// update, its retry, a second update, the RFO, the RFO's retry and its edit,
// and reads everything back from WordPress.
func itWordPressFlow(t *testing.T, base string, a itAccount) {
	ctx := context.Background()
	user, password := os.Getenv(a.userVar), os.Getenv(a.passwordVar)
	ch := itChannel(t, base, user, a.passwordVar)
	wp := itWP{t: t, base: base, user: user, password: password}

	who, err := ch.(publishers.Verifier).Verify(ctx)
	if err != nil || who == "" {
		t.Fatalf("Verify = %q, %v", who, err)
	}
	t.Logf("Verify: %s", who)

	// A fresh incident id each run: the services may be reused between runs.
	nonce := fmt.Sprintf("%x", time.Now().UnixNano())
	id := time.Now().UTC().Format("2006-01-02") + "-imap-" + a.name + "-" + nonce
	inc := itIncident(id)
	mark1, mark2, markRFO := "itupdate1x"+nonce, "itupdate2x"+nonce, "itrfox"+nonce

	// 1. The first update creates the post.
	p1 := itPost(t, &inc, "investigating", mark1+" We are investigating reports of IMAP and POP login failures. Typed <script>alert(1)</script> stays text.")
	r1, err := ch.Publish(ctx, p1)
	if err != nil {
		t.Fatalf("first update: %v", err)
	}
	t.Logf("first update: id %s, %s", r1.ID, r1.URL)
	slug := wordpress.Slug(id)
	if r1.ID == "" || r1.Meta["slug"] != slug || !strings.HasPrefix(r1.URL, base+"/") {
		t.Fatalf("first receipt = %+v, want slug %s and a link under %s", r1, slug, base)
	}

	// Its retry after a lost answer (same key, no thread yet) finds the post.
	r1b, err := ch.Publish(ctx, p1)
	if err != nil || r1b.ID != r1.ID || r1b.URL != r1.URL {
		t.Fatalf("retry of the first update: %+v, %v; want the post %s again", r1b, err, r1.ID)
	}
	if ids := wp.idsBySlug(slug); len(ids) != 1 {
		t.Fatalf("posts with slug %s after a retry: %v, want exactly one", slug, ids)
	}

	// 2. The second update edits the same post.
	p2 := itPost(t, &inc, "identified", mark2+" A brute-force attack overloads the IMAP servers; we are blocking it.")
	p2.Thread, p2.Parent = &r1, &r1
	r2, err := ch.Publish(ctx, p2)
	if err != nil {
		t.Fatalf("second update: %v", err)
	}
	if r2.ID != r1.ID || r2.URL != r1.URL {
		t.Fatalf("second receipt = %+v, want the first post %s at %s", r2, r1.ID, r1.URL)
	}
	got := wp.post(r2.ID)
	if got.Title.Raw != itTitleHTML(p2.Title) || got.Content.Raw != publishers.NeutralizeShortcodes(p2.HTML) || got.Status != "publish" || got.Slug != slug || got.Link != r1.URL {
		t.Errorf("post %s as WordPress has it:\ntitle %q (want %q)\nstatus %s, slug %s, link %s\ncontent:\n%s\nwant:\n%s",
			r2.ID, got.Title.Raw, itTitleHTML(p2.Title), got.Status, got.Slug, got.Link, got.Content.Raw, publishers.NeutralizeShortcodes(p2.HTML))
	}
	if ids := wp.idsBySlug(slug); len(ids) != 1 {
		t.Fatalf("posts with slug %s after the edit: %v, want exactly one", slug, ids)
	}
	page := wp.page(r2.URL)
	for _, want := range []string{mark1, mark2, "IMAP/POP", html.EscapeString("<script>alert(1)</script>")} {
		if !strings.Contains(page, want) {
			t.Errorf("the page %s lacks %q", r2.URL, want)
		}
	}
	for _, typed := range []string{"<script>alert(1)</script>", "<script>alert(2)</script>", "<b>slow</b>"} {
		if strings.Contains(page, typed) {
			t.Errorf("the page %s holds the typed %s as HTML", r2.URL, typed)
		}
	}
	if !strings.Contains(page, "&lt;b&gt;slow&lt;/b&gt;") {
		t.Errorf("the page %s does not show the title's typed <b> as text", r2.URL)
	}
	if i1, i2 := strings.Index(page, mark1), strings.Index(page, mark2); i2 > i1 {
		t.Errorf("the page %s does not show the newest update first", r2.URL)
	}
	if !strings.Contains(page, "[Identified]") {
		t.Errorf("the page %s lacks the title %q", r2.URL, p2.Title)
	}

	// 3. The RFO is its own post.
	inc.Status, inc.ResolvedAt = "resolved", time.Now().Add(-time.Minute)
	rfo := itRFO(t, inc, markRFO+" A certificate expired on the IMAP proxies.")
	rfo.Thread, rfo.Parent = &r1, &r2
	r3, err := ch.Publish(ctx, rfo)
	if err != nil {
		t.Fatalf("RFO: %v", err)
	}
	t.Logf("RFO: id %s, %s", r3.ID, r3.URL)
	rfoSlug := wordpress.Slug(id + "-rfo")
	if r3.ID == r1.ID || r3.Meta["slug"] != rfoSlug || r3.Meta["kind"] != "rfo" || r3.URL == r1.URL {
		t.Fatalf("RFO receipt = %+v, want its own post with slug %s", r3, rfoSlug)
	}
	// The RFO's retry after a lost answer finds it instead of posting twice.
	if r3b, err := ch.Publish(ctx, rfo); err != nil || r3b.ID != r3.ID {
		t.Fatalf("retry of the RFO: %+v, %v; want the post %s again", r3b, err, r3.ID)
	}
	if ids := wp.idsBySlug(rfoSlug); len(ids) != 1 {
		t.Fatalf("posts with slug %s after a retry: %v, want exactly one", rfoSlug, ids)
	}
	// An edited RFO edits that post.
	edited := itRFO(t, inc, markRFO+" edited: A certificate expired on the IMAP proxies; renewal is now monitored.")
	edited.Thread, edited.Parent = &r1, &r3
	r4, err := ch.Publish(ctx, edited)
	if err != nil || r4.ID != r3.ID {
		t.Fatalf("RFO edit: %+v, %v; want the post %s", r4, err, r3.ID)
	}
	got = wp.post(r3.ID)
	if got.Title.Raw != itTitleHTML(edited.Title) || got.Content.Raw != publishers.NeutralizeShortcodes(edited.HTML) || got.Slug != rfoSlug {
		t.Errorf("RFO post %s: title %q, slug %s, content:\n%s\nwant title %q, content:\n%s", r3.ID, got.Title.Raw, got.Slug, got.Content.Raw, itTitleHTML(edited.Title), publishers.NeutralizeShortcodes(edited.HTML))
	}
	rfoPage := wp.page(r4.URL)
	for _, want := range []string{markRFO + " edited", "Reason For Outage", "Root cause"} {
		if !strings.Contains(rfoPage, want) {
			t.Errorf("the RFO page %s lacks %q", r4.URL, want)
		}
	}
	// The status post is untouched by the RFO.
	if got := wp.post(r1.ID); got.Content.Raw != publishers.NeutralizeShortcodes(p2.HTML) {
		t.Errorf("the RFO changed the status post %s", r1.ID)
	}
}

// itTitle is an incident title as a responder may type it: WordPress must
// show it as text.
const itTitle = `IMAP/POP login failures & <b>slow</b> webmail <script>alert(2)</script>`

// itTitleHTML is a title as the channel must send it: WordPress titles are HTML.
var itTitleHTML = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace

// itIncident is an incident that started 20 minutes ago.
func itIncident(id string) publishers.Incident {
	now := time.Now().Truncate(time.Second)
	return publishers.Incident{
		ID: id, Title: itTitle, Severity: "major",
		Services:  []publishers.Service{{ID: "imap", Name: "IMAP/POP"}},
		Accounts:  1200,
		StartedAt: now.Add(-20 * time.Minute), OpenedAt: now.Add(-15 * time.Minute),
	}
}

// itPost adds an update to inc and renders the status post as the engine
// does: the built-in title and status templates, and Markdown to HTML.
func itPost(t *testing.T, inc *publishers.Incident, status, message string) publishers.Post {
	t.Helper()
	n := len(inc.Updates) + 1
	h, err := templates.Markdown(message)
	if err != nil {
		t.Fatal(err)
	}
	inc.Status = status
	inc.Updates = append(inc.Updates, publishers.Update{Number: n, Status: status, Message: message, HTML: h,
		At: inc.OpenedAt.Add(time.Duration(n-1) * time.Minute), Author: "alice"})
	d := itData(*inc)
	title, text, body := itRender(t, d, templates.StatusFile)
	return publishers.Post{Key: fmt.Sprintf("%s/update-%d/blog", inc.ID, n), Kind: publishers.KindUpdate,
		Title: title, Text: text, HTML: body, Incident: *inc}
}

// itRFO renders the RFO post of inc.
func itRFO(t *testing.T, inc publishers.Incident, rootCause string) publishers.Post {
	t.Helper()
	d := itData(inc)
	d.RFO = &templates.RFO{Summary: "Logins failed for 40 minutes.", RootCause: rootCause,
		Mitigation: "We renewed the certificate.", FollowUp: "Certificates are renewed automatically.",
		Timeline: []templates.TimelineEntry{{At: inc.StartedAt, Text: "Logins start failing."}}, UpdateCount: len(inc.Updates),
		FirstUpdateAfter: 5 * time.Minute, LongestGap: 10 * time.Minute, Cadence: 30 * time.Minute}
	title, text, body := itRender(t, d, templates.RFOFile)
	inc.RFO = &publishers.Update{At: time.Now(), Message: rootCause}
	return publishers.Post{Key: inc.ID + "/rfo/blog", Kind: publishers.KindRFO, Title: title, Text: text, HTML: body, Incident: inc}
}

func itData(inc publishers.Incident) *templates.Data {
	d := &templates.Data{Organization: "Example Mail", Cadence: 30 * time.Minute,
		Incident: templates.Incident{ID: inc.ID, Title: inc.Title, Status: inc.Status, Severity: inc.Severity,
			Accounts: inc.Accounts, StartedAt: inc.StartedAt, OpenedAt: inc.OpenedAt, ResolvedAt: inc.ResolvedAt}}
	for _, s := range inc.Services {
		d.Incident.Services = append(d.Incident.Services, templates.Service{ID: s.ID, Name: s.Name})
	}
	for _, u := range inc.Updates {
		d.Updates = append(d.Updates, templates.Update{Number: u.Number, Status: u.Status, Message: u.Message, Author: u.Author, At: u.At})
	}
	if len(d.Updates) > 0 {
		d.Update = d.Updates[len(d.Updates)-1]
	}
	return d
}

func itRender(t *testing.T, d *templates.Data, file string) (title, text, body string) {
	t.Helper()
	set, err := templates.Load("", []*time.Location{time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	if title, err = set.Render(templates.TitleFile, d); err != nil {
		t.Fatal(err)
	}
	if text, err = set.Render(file, d); err != nil {
		t.Fatal(err)
	}
	if body, err = templates.Markdown(text); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(title), text, body
}

// itWP reads WordPress back, outside the channel under test.
type itWP struct {
	t                    *testing.T
	base, user, password string
}

type itPostObject struct {
	ID      int64  `json:"id"`
	Slug    string `json:"slug"`
	Status  string `json:"status"`
	Link    string `json:"link"`
	Title   struct{ Raw, Rendered string }
	Content struct{ Raw, Rendered string }
}

func (w itWP) get(u string, auth bool) []byte {
	w.t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		w.t.Fatal(err)
	}
	if auth {
		req.SetBasicAuth(w.user, w.password)
	}
	resp, err := (&http.Client{Timeout: 60 * time.Second}).Do(req)
	if err != nil {
		w.t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		w.t.Fatalf("GET %s: %s, %v\n%.500s", u, resp.Status, err, b)
	}
	return b
}

// post reads a post with context=edit, which holds the raw title and content.
func (w itWP) post(id string) itPostObject {
	w.t.Helper()
	var p itPostObject
	b := w.get(w.base+"/wp-json/wp/v2/posts/"+id+"?context=edit", true)
	if err := json.Unmarshal(b, &p); err != nil {
		w.t.Fatalf("post %s: %v\n%.500s", id, err, b)
	}
	return p
}

// idsBySlug lists the posts of any status with that slug.
func (w itWP) idsBySlug(slug string) []int64 {
	w.t.Helper()
	var posts []itPostObject
	q := url.Values{"slug": {slug}, "status": {"any"}, "context": {"edit"}}
	b := w.get(w.base+"/wp-json/wp/v2/posts?"+q.Encode(), true)
	if err := json.Unmarshal(b, &posts); err != nil {
		w.t.Fatalf("posts by slug %s: %v\n%.500s", slug, err, b)
	}
	var ids []int64
	for _, p := range posts {
		ids = append(ids, p.ID)
	}
	return ids
}

// page fetches the rendered page as a visitor would (no credentials).
func (w itWP) page(link string) string {
	w.t.Helper()
	return string(w.get(link, false))
}
