package pushover

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/incident-cli/incident/pagers"
	"github.com/incident-cli/incident/pagers/pagerstest"
	"github.com/incident-cli/incident/pagers/pushover/pushovertest"
	"github.com/incident-cli/incident/publishers"
	"github.com/incident-cli/incident/publishers/fakeservice"
	"github.com/incident-cli/incident/publishers/publisherstest"
)

func urgentPage(t *testing.T, p *Pager, person string) pagers.Receipt {
	t.Helper()
	rec, err := p.Page(context.Background(), page(pagers.KindAlert, true, person))
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

func TestAcknowledged(t *testing.T) {
	f, clock := newFake(t)
	p := newPager(t, f, "")
	ctx := context.Background()
	rec := urgentPage(t, p, "")
	bobs := f.Receipts()[1].ID

	ack, err := p.Acknowledged(ctx, rec)
	if err != nil || ack != (pagers.Ack{}) {
		t.Fatalf("before anyone acknowledged: %+v, %v", ack, err)
	}
	// A second poll within 5 s is refused; the error says when to come back.
	clock.Advance(2 * time.Second)
	_, err = p.Acknowledged(ctx, rec)
	if err == nil || !publishers.Retryable(err) || publishers.RetryAfter(err) != 3*time.Second ||
		!strings.Contains(err.Error(), "pushover: poll receipt: 429 Too Many Requests: receipts may be polled no more than once every 5 seconds") {
		t.Fatalf("poll too soon: err = %v", err)
	}
	publisherstest.AssertNoSecret(t, err.Error(), allSecrets...)

	clock.Advance(5 * time.Second)
	if err := f.Acknowledge(bobs, pushovertest.BobKey, "iphone"); err != nil {
		t.Fatal(err)
	}
	ack, err = p.Acknowledged(ctx, rec)
	if err != nil || !ack.Acknowledged || ack.By != "bob" || !ack.At.Equal(clock.Now()) || ack.Expired {
		t.Fatalf("after bob acknowledged: %+v, %v", ack, err)
	}
	for _, r := range f.Receipts() {
		if r.Polls != 2 {
			t.Errorf("receipt %s polled %d times, want 2", r.ID, r.Polls)
		}
	}
}

func TestAcknowledgedByGroupMember(t *testing.T) {
	tests := []struct {
		to, want string
	}{
		{`to = { ops = "env:PUSHOVER_OPS" }`, "ops (on pixel)"},                               // alice is not in the table: the group's name
		{`to = { ops = "env:PUSHOVER_OPS", alice = "env:PUSHOVER_ALICE" }`, "alice"},          // alice is: her name
		{`to = { ops = "env:PUSHOVER_OPS", bob = "env:PUSHOVER_BOB" }`, "ops (on pixel)"},     // someone else is
		{`to = { ops = "env:PUSHOVER_OPS", carol = "env:PUSHOVER_CAROL" }`, "ops (on pixel)"}, // an unresolvable key is skipped
	}
	for _, tc := range tests {
		f, clock := newFake(t)
		prim, md := publisherstest.Decode(t, fmt.Sprintf("url = %q\ntoken = \"env:PUSHOVER_TOKEN\"\n%s", f.URL, tc.to))
		pg, err := New(prim, md, publisherstest.Env(t, "phones", secrets))
		if err != nil {
			t.Fatal(err)
		}
		p := pg.(*Pager)
		rec := urgentPage(t, p, "ops")
		clock.Advance(time.Minute)
		if err := f.Acknowledge(f.Receipts()[0].ID, pushovertest.AliceKey, "pixel"); err != nil {
			t.Fatal(err)
		}
		ack, err := p.Acknowledged(context.Background(), rec)
		if err != nil || !ack.Acknowledged || ack.By != tc.want {
			t.Errorf("%s: ack = %+v, %v; want by %q", tc.to, ack, err, tc.want)
		}
		publisherstest.AssertNoSecret(t, ack.By, allSecrets...)
	}
}

func TestAcknowledgedExpired(t *testing.T) {
	f, clock := newFake(t)
	p := newPager(t, f, `expire = "10m"`)
	rec := urgentPage(t, p, "")
	rs := f.Receipts()
	f.Expire(rs[0].ID)
	ack, err := p.Acknowledged(context.Background(), rec)
	if err != nil || ack.Expired || ack.Acknowledged {
		t.Fatalf("one of two expired: %+v, %v; want still repeating", ack, err)
	}
	clock.Advance(10 * time.Minute) // bob's expires by time
	ack, err = p.Acknowledged(context.Background(), rec)
	if err != nil || !ack.Expired || ack.Acknowledged {
		t.Fatalf("both expired: %+v, %v", ack, err)
	}
	// A receipt Pushover no longer knows (kept a week) is expired too.
	gone := pagers.Receipt{To: []string{"alice"}, Meta: map[string]string{"receipt": "ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ"}}
	if ack, err := p.Acknowledged(context.Background(), gone); err != nil || !ack.Expired {
		t.Errorf("unknown receipt: %+v, %v", ack, err)
	}
}

func TestAcknowledgedErrors(t *testing.T) {
	f, _ := newFake(t)
	p := newPager(t, f, "")
	rec := urgentPage(t, p, "alice")

	_, err := p.Acknowledged(context.Background(), pagers.Receipt{ID: "x", To: []string{"alice"}})
	if err == nil || publishers.Retryable(err) || !strings.Contains(err.Error(), "no emergency receipt to poll") {
		t.Errorf("receipt without emergency: err = %v", err)
	}
	f.Malformed(1)
	if _, err = p.Acknowledged(context.Background(), rec); err == nil || !publishers.Retryable(err) {
		t.Errorf("malformed answer: err = %v, want retryable", err)
	}
	f.Hang(1)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err = p.Acknowledged(ctx, rec)
	if err == nil || !publishers.Retryable(err) || err.Error() != "pushover: poll receipt: context deadline exceeded" {
		t.Errorf("timeout: err = %v", err)
	}
	publisherstest.AssertNoSecret(t, err.Error(), allSecrets...)
	f.Fail(500, `{"errors":["something went wrong"],"status":0}`, nil, 1)
	_, err = p.Acknowledged(context.Background(), rec)
	if err == nil || !publishers.Retryable(err) || err.Error() != "pushover: poll receipt: 500 Internal Server Error: something went wrong" {
		t.Errorf("500: err = %v", err)
	}
	publisherstest.AssertNoSecret(t, err.Error(), allSecrets...)
}

func TestCancel(t *testing.T) {
	f, _ := newFake(t)
	p := newPager(t, f, "")
	first := urgentPage(t, p, "")
	pg := page(pagers.KindAlert, true, "alice")
	pg.Key += "/repeat"
	second, err := p.Page(context.Background(), pg)
	if err != nil {
		t.Fatal(err)
	}
	other := page(pagers.KindAlert, true, "bob")
	other.Incident, other.Key = "2026-11-27-smtp-slow", "other"
	if _, err := p.Page(context.Background(), other); err != nil {
		t.Fatal(err)
	}
	if err := p.Cancel(context.Background(), pagerstest.Incident, []pagers.Receipt{first, second}); err != nil {
		t.Fatal(err)
	}
	rs := f.Receipts()
	for _, r := range rs[:3] {
		if !r.Cancelled {
			t.Errorf("receipt %s of the incident not cancelled", r.ID)
		}
	}
	if rs[3].Cancelled {
		t.Error("another incident's receipt was cancelled")
	}
	if n := f.Count("POST /1/receipts/cancel_by_tag/" + pagerstest.Incident + ".json"); n != 1 || f.Count("POST /1/receipts/r") != 0 {
		t.Errorf("requests = %v; want one cancel_by_tag", f.Requests())
	}
}

func TestCancelFallsBackToReceipts(t *testing.T) {
	f, _ := newFake(t)
	p := newPager(t, f, "")
	rec := urgentPage(t, p, "")
	f.Inject(fakeFault("cancel_by_tag", 503, 1))
	gone := pagers.Receipt{To: []string{"alice"}, Meta: map[string]string{"receipt": "ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ"}}
	if err := p.Cancel(context.Background(), pagerstest.Incident, []pagers.Receipt{rec, gone}); err != nil {
		t.Fatalf("Cancel: %v (a gone receipt counts as cancelled)", err)
	}
	for _, r := range f.Receipts() {
		if !r.Cancelled {
			t.Errorf("receipt %s not cancelled", r.ID)
		}
	}
	if n := f.Count("POST /1/receipts/r"); n != 2 {
		t.Errorf("per-receipt cancels = %d, want 2: %v", n, f.Requests())
	}

	// Both ways fail: the error tells both, and is retryable.
	f.Inject(fakeFault("/1/receipts/", 500, 3))
	err := p.Cancel(context.Background(), pagerstest.Incident, []pagers.Receipt{rec})
	if err == nil || !publishers.Retryable(err) || !strings.Contains(err.Error(), "cancel by tag: 500") || !strings.Contains(err.Error(), "cancel receipt: 500") {
		t.Errorf("err = %v", err)
	}
	// Without receipts to fall back on, the tag's error is the answer.
	f.Inject(fakeFault("cancel_by_tag", 503, 1))
	if err := p.Cancel(context.Background(), pagerstest.Incident, nil); err == nil || !strings.Contains(err.Error(), "pushover: cancel by tag: 503 Service Unavailable") {
		t.Errorf("err = %v", err)
	}
}

func TestVerify(t *testing.T) {
	f, _ := newFake(t)
	prim, md := publisherstest.Decode(t, fmt.Sprintf("url = %q\ntoken = \"env:PUSHOVER_TOKEN\"\nto = { alice = \"env:PUSHOVER_ALICE\", bob = \"env:PUSHOVER_BOB\", ops = \"env:PUSHOVER_OPS\" }", f.URL))
	pg, err := New(prim, md, publisherstest.Env(t, "phones", secrets))
	if err != nil {
		t.Fatal(err)
	}
	v := pg.(pagers.Verifier)
	got, err := v.Verify(context.Background())
	if want := "token valid (10000 of 10000 messages left this month); alice: 1 device; bob: 2 devices; ops: a group"; err != nil || got != want {
		t.Errorf("Verify = %q, %v\nwant %q", got, err, want)
	}
	if len(f.Messages()) != 0 || len(f.Validated()) != 3 {
		t.Errorf("messages %d, validations %d: Verify must page no one", len(f.Messages()), len(f.Validated()))
	}

	bad := map[string]string{}
	for k, v := range secrets {
		bad[k] = v
	}
	bad["PUSHOVER_BOB"] = "uXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"
	prim, md = publisherstest.Decode(t, fmt.Sprintf("url = %q\n", f.URL)+table)
	pg, _ = New(prim, md, publisherstest.Env(t, "phones", bad))
	_, err = pg.(pagers.Verifier).Verify(context.Background())
	if err == nil || err.Error() != "pushover: validate bob: 400 Bad Request: user key is invalid (check bob's user key in the environment variable PUSHOVER_BOB; it is shown at the top of https://pushover.net once they log in)" {
		t.Errorf("bad user key: err = %v", err)
	}
	bad["PUSHOVER_TOKEN"] = "aXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"
	pg, _ = New(prim, md, publisherstest.Env(t, "phones", bad))
	_, err = pg.(pagers.Verifier).Verify(context.Background())
	if err == nil || !strings.Contains(err.Error(), "pushover: check token: 400 Bad Request: application token is invalid (check the application token in the environment variable PUSHOVER_TOKEN") {
		t.Errorf("bad token: err = %v", err)
	}
	publisherstest.AssertNoSecret(t, err.Error(), append(allSecrets, bad["PUSHOVER_TOKEN"], bad["PUSHOVER_BOB"])...)
}

// fakeFault answers status to the next times requests whose path holds path.
func fakeFault(path string, status, times int) fakeservice.Fault {
	return fakeservice.Fault{Mode: fakeservice.Answer, Path: path, Status: status, Times: times,
		Body: `{"errors":["something went wrong"],"status":0,"request":"x"}`}
}
