package twiliotest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// The fake refuses what Twilio documents it refuses.
func TestRefusals(t *testing.T) {
	s := NewServer(Options{})
	defer s.Close()
	msgs := s.URL + apiPrefix + DefaultAccountSID + "/Messages.json"
	calls := s.URL + apiPrefix + DefaultAccountSID + "/Calls.json"
	sms := func(kv ...string) url.Values {
		v := url.Values{"To": {AliceNumber}, "From": {DefaultFrom}, "Body": {"hi"}}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	tests := []struct {
		name, url, user, pass string
		form                  url.Values
		status, code          int
	}{
		{"sms", msgs, DefaultAccountSID, DefaultAuthToken, sms(), 201, 0},
		{"no auth", msgs, "", "", sms(), 401, 20003},
		{"wrong token", msgs, DefaultAccountSID, "x", sms(), 401, 20003},
		{"other account", s.URL + apiPrefix + "AC1/Messages.json", DefaultAccountSID, DefaultAuthToken, sms(), 404, 20404},
		{"bad To", msgs, DefaultAccountSID, DefaultAuthToken, sms("To", "0795550101"), 400, 21211},
		{"invalid To", msgs, DefaultAccountSID, DefaultAuthToken, sms("To", InvalidNumber), 400, 21211},
		{"From not ours", msgs, DefaultAccountSID, DefaultAuthToken, sms("From", "+15005550009"), 400, 21606},
		{"no body", msgs, DefaultAccountSID, DefaultAuthToken, sms("Body", ""), 400, 21602},
		{"body too long", msgs, DefaultAccountSID, DefaultAuthToken, sms("Body", strings.Repeat("😀", 801)), 400, 21617},
		{"call", calls, DefaultAccountSID, DefaultAuthToken, url.Values{"To": {BobNumber}, "From": {DefaultFrom}, "Twiml": {"<Response><Say>hi</Say></Response>"}}, 201, 0},
		{"call bad twiml", calls, DefaultAccountSID, DefaultAuthToken, url.Values{"To": {BobNumber}, "From": {DefaultFrom}, "Twiml": {"<Say>hi"}}, 400, 21205},
		{"call twiml too long", calls, DefaultAccountSID, DefaultAuthToken, url.Values{"To": {BobNumber}, "From": {DefaultFrom}, "Twiml": {"<Response><Say>" + strings.Repeat("x", 4000) + "</Say></Response>"}}, 400, 0},
	}
	for _, tc := range tests {
		req, _ := http.NewRequest(http.MethodPost, tc.url, strings.NewReader(tc.form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("User-Agent", "incident/test")
		if tc.user != "" {
			req.SetBasicAuth(tc.user, tc.pass)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Code     int    `json:"code"`
			Message  string `json:"message"`
			MoreInfo string `json:"more_info"`
			Status   int    `json:"status"`
			SID      string `json:"sid"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || body.Code != tc.code || (tc.status >= 400 && (body.Status != tc.status || body.Message == "" || !strings.HasPrefix(body.MoreInfo, "https://www.twilio.com/docs/errors/"))) {
			t.Errorf("%s: %d %+v", tc.name, resp.StatusCode, body)
		}
		if tc.status == 201 && len(body.SID) != 34 {
			t.Errorf("%s: sid %q", tc.name, body.SID)
		}
	}
	if len(s.Messages()) != 1 || len(s.Calls()) != 1 {
		t.Errorf("messages %d, calls %d; want only the good ones", len(s.Messages()), len(s.Calls()))
	}
}
