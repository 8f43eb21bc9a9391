// Package twiliotest is Twilio's REST API (2010-04-01) on loopback, the
// part a pager uses: POST Accounts/{sid}/Messages.json (SMS),
// Accounts/{sid}/Calls.json (a voice call with inline TwiML) and GET
// Accounts/{sid}.json. It wants HTTP Basic auth AccountSid:AuthToken, form
// bodies, E.164 numbers, a From number the account owns, a Body of at most
// 1600 characters, TwiML that parses with <Response> at its root and at
// most 4000 characters, and a ring Timeout of 1 to 600 s. A trial account
// reaches verified numbers only.
//
// Refusals have Twilio's shape: {"code":21211,"message":"Invalid 'To'
// Phone Number","more_info":"https://www.twilio.com/docs/errors/21211",
// "status":400}. Faults are injected per request (see fakeservice.Faults).
// It uses nothing from package testing.
package twiliotest

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf16"

	"github.com/incident-cli/incident/publishers/fakeservice"
)

// Defaults: an account (Twilio's own test-credential shapes) and numbers
// from the 555-01xx range reserved for fiction.
const (
	DefaultAccountSID = "AC0123456789abcdef0123456789abcdef"
	DefaultAuthToken  = "f0e1d2c3b4a5968778695a4b3c2d1e0f"
	DefaultFrom       = "+15005550006"
	AliceNumber       = "+14155550101"
	BobNumber         = "+14155550102"
	// InvalidNumber is well-formed but no phone's: like Twilio's magic test
	// number +15005550001, it is refused with 21211.
	InvalidNumber = "+15005550001"
)

// Options configure a Server; the zero value works.
type Options struct {
	AccountSID   string
	AuthToken    string
	FriendlyName string   // "Example Ops" by default
	Numbers      []string // the numbers the account owns (DefaultFrom)
	Trial        bool     // a trial account: only Verified numbers can be reached
	Verified     []string
	Status       string // the account's status: "active" by default, or "suspended", "closed"
	UserAgent    string // the User-Agent requests must carry ("" for any "incident/...")
	Now          func() time.Time
	Reporter     fakeservice.Reporter // gets protocol problems; when it has Cleanup(func()) (a *testing.T), Close is registered there
}

// Message is an SMS the fake accepted.
type Message struct {
	SID, To, From, Body string
}

// Call is a call the fake placed.
type Call struct {
	SID, To, From, Twiml string
	Say                  []string // the text of each <Say>
	Loop                 int      // the first <Say>'s loop attribute (1 when absent)
	Timeout              int
}

// Server is the fake Twilio API.
type Server struct {
	*fakeservice.Faults
	URL string

	o Options

	mu       sync.Mutex
	messages []Message
	calls    []Call
}

// NewServer starts a fake Twilio API on loopback.
func NewServer(o Options) *Server {
	if o.AccountSID == "" {
		o.AccountSID = DefaultAccountSID
	}
	if o.AuthToken == "" {
		o.AuthToken = DefaultAuthToken
	}
	if o.FriendlyName == "" {
		o.FriendlyName = "Example Ops"
	}
	if o.Numbers == nil {
		o.Numbers = []string{DefaultFrom}
	}
	if o.Status == "" {
		o.Status = "active"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Server{Faults: fakeservice.New(o.Reporter), o: o}
	s.URL = s.Serve(s.serve)
	return s
}

// Messages returns every SMS accepted, in order.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.messages)
}

// Calls returns every call placed, in order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)

const apiPrefix = "/2010-04-01/Accounts/"

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.CheckUserAgent(r, s.o.UserAgent)
	s.mu.Lock()
	defer s.mu.Unlock()
	user, pass, ok := r.BasicAuth()
	if !ok || user != s.o.AccountSID || pass != s.o.AuthToken {
		refuse(w, http.StatusUnauthorized, 20003, "Authenticate")
		return
	}
	rest, found := strings.CutPrefix(r.URL.Path, apiPrefix)
	sid, resource, _ := strings.Cut(rest, "/")
	if !found || strings.TrimSuffix(sid, ".json") != s.o.AccountSID {
		refuse(w, http.StatusNotFound, 20404, "The requested resource "+r.URL.Path+" was not found")
		return
	}
	if resource == "" && strings.HasSuffix(sid, ".json") && r.Method == http.MethodGet {
		s.account(w)
		return
	}
	if r.Method != http.MethodPost || (resource != "Messages.json" && resource != "Calls.json") {
		refuse(w, http.StatusNotFound, 20404, "The requested resource "+r.URL.Path+" was not found")
		return
	}
	if s.o.Status != "active" {
		refuse(w, http.StatusUnauthorized, 20003, "Authenticate")
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		s.Problemf("POST %s: Content-Type %q, want a form", r.URL.Path, ct)
	}
	if err := r.ParseForm(); err != nil {
		refuse(w, http.StatusBadRequest, 0, "the request could not be parsed")
		return
	}
	f := r.PostForm
	to, from := f.Get("To"), f.Get("From")
	switch {
	case !e164.MatchString(to) || to == InvalidNumber:
		refuse(w, http.StatusBadRequest, 21211, "Invalid 'To' Phone Number: "+to)
		return
	case s.o.Trial && !slices.Contains(s.o.Verified, to):
		refuse(w, http.StatusBadRequest, 21608, "The number "+to+" is unverified. Trial accounts cannot send messages to unverified numbers; verify "+to+" at twilio.com/user/account/phone-numbers/verified, or purchase a Twilio number to send messages to unverified numbers")
		return
	case !e164.MatchString(from):
		refuse(w, http.StatusBadRequest, 21212, "Invalid From Number (caller ID): "+from)
		return
	}
	if resource == "Messages.json" {
		s.message(w, f)
	} else {
		s.call(w, f)
	}
}

func (s *Server) message(w http.ResponseWriter, f url.Values) {
	s.known(f, "Messages.json", "To", "From", "Body", "StatusCallback", "MessagingServiceSid", "ValidityPeriod")
	m := Message{To: f.Get("To"), From: f.Get("From"), Body: f.Get("Body")}
	switch n := len(utf16.Encode([]rune(m.Body))); {
	case !slices.Contains(s.o.Numbers, m.From):
		refuse(w, http.StatusBadRequest, 21606, "The From phone number "+m.From+" is not a valid, SMS-capable inbound phone number or short code for your account.")
		return
	case n == 0:
		refuse(w, http.StatusBadRequest, 21602, "Message body is required.")
		return
	case n > 1600:
		refuse(w, http.StatusBadRequest, 21617, "The concatenated message body exceeds the 1600 character limit.")
		return
	}
	m.SID = fmt.Sprintf("SM%032x", len(s.messages)+1)
	s.messages = append(s.messages, m)
	segments := (len(utf16.Encode([]rune(m.Body))) + 152) / 153
	writeJSON(w, http.StatusCreated, s.resource(m.SID, "Messages", map[string]any{
		"to": m.To, "from": m.From, "body": m.Body, "status": "queued", "num_segments": strconv.Itoa(max(segments, 1)),
		"num_media": "0", "direction": "outbound-api", "price": nil, "price_unit": "USD", "error_code": nil, "error_message": nil,
		"messaging_service_sid": nil, "date_sent": nil,
	}))
}

func (s *Server) call(w http.ResponseWriter, f url.Values) {
	s.known(f, "Calls.json", "To", "From", "Twiml", "Url", "Timeout", "StatusCallback", "MachineDetection")
	c := Call{To: f.Get("To"), From: f.Get("From"), Twiml: f.Get("Twiml"), Timeout: 60, Loop: 1}
	if !slices.Contains(s.o.Numbers, c.From) {
		refuse(w, http.StatusBadRequest, 21210, "The source phone number provided, "+c.From+", is not yet verified for your account. You may only make calls from phone numbers that you've verified or purchased from Twilio.")
		return
	}
	if v := f.Get("Timeout"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 600 {
			s.Problemf("POST Calls.json: Timeout %q: Twilio takes 1 to 600 seconds", v)
		}
		c.Timeout = n
	}
	if f.Has("Url") {
		s.Problemf("POST Calls.json: Url sent; a pager's call carries its TwiML inline (Twilio ignores Twiml when Url is set)")
	}
	if len(c.Twiml) > 4000 {
		// Twilio documents the limit; the code it answers is not documented.
		refuse(w, http.StatusBadRequest, 0, "Twiml exceeds the 4000 character limit")
		return
	}
	var doc struct {
		XMLName xml.Name
		Say     []struct {
			Text string `xml:",chardata"`
			Loop string `xml:"loop,attr"`
		} `xml:"Say"`
	}
	if err := xml.Unmarshal([]byte(c.Twiml), &doc); err != nil || doc.XMLName.Local != "Response" {
		refuse(w, http.StatusBadRequest, 21205, "Twiml is not valid TwiML: a <Response> document is required")
		return
	}
	for i, say := range doc.Say {
		c.Say = append(c.Say, say.Text)
		if i == 0 && say.Loop != "" {
			c.Loop, _ = strconv.Atoi(say.Loop)
		}
	}
	c.SID = fmt.Sprintf("CA%032x", len(s.calls)+1)
	s.calls = append(s.calls, c)
	writeJSON(w, http.StatusCreated, s.resource(c.SID, "Calls", map[string]any{
		"to": c.To, "from": c.From, "status": "queued", "direction": "outbound-api", "duration": nil, "price": nil,
		"answered_by": nil, "forwarded_from": nil, "caller_name": nil,
	}))
}

// known records a problem for each field Twilio's resource does not take.
func (s *Server) known(f url.Values, resource string, fields ...string) {
	for k := range f {
		if !slices.Contains(fields, k) {
			s.Problemf("POST %s: unknown field %q", resource, k)
		}
	}
}

func (s *Server) account(w http.ResponseWriter) {
	typ := "Full"
	if s.o.Trial {
		typ = "Trial"
	}
	date := s.o.Now().UTC().AddDate(-1, 0, 0).Format(time.RFC1123Z)
	writeJSON(w, http.StatusOK, map[string]any{
		"sid": s.o.AccountSID, "friendly_name": s.o.FriendlyName, "status": s.o.Status, "type": typ,
		"auth_token":        s.o.AuthToken, // the real resource carries it too: a client must never show it
		"owner_account_sid": s.o.AccountSID, "date_created": date, "date_updated": date,
		"uri": apiPrefix + s.o.AccountSID + ".json",
	})
}

// resource is the common part of Twilio's Message and Call resources.
func (s *Server) resource(sid, kind string, fields map[string]any) map[string]any {
	now := s.o.Now().UTC().Format(time.RFC1123Z)
	fields["sid"] = sid
	fields["account_sid"] = s.o.AccountSID
	fields["api_version"] = "2010-04-01"
	fields["date_created"] = now
	fields["date_updated"] = now
	fields["uri"] = apiPrefix + s.o.AccountSID + "/" + kind + "/" + sid + ".json"
	return fields
}

// refuse answers Twilio's error body.
func refuse(w http.ResponseWriter, status, code int, msg string) {
	writeJSON(w, status, map[string]any{"code": code, "message": msg, "more_info": fmt.Sprintf("https://www.twilio.com/docs/errors/%d", code), "status": status})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
