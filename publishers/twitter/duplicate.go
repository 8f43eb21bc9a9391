package twitter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf16"

	"golang.org/x/text/unicode/norm"

	"github.com/incident-cli/incident/publishers"
)

// recentPosts is how many of the account's latest posts a duplicate is looked
// for in (GET /2/users/{id}/tweets takes 5 to 100; 10 is its default).
const recentPosts = 10

// isDuplicate reports whether X refused a post as a duplicate of a recent one.
func isDuplicate(err error) bool {
	var he *publishers.HTTPError
	return errors.As(err, &he) && he.Status == http.StatusForbidden && strings.Contains(strings.ToLower(he.Message), "duplicate content")
}

// timelinePost is a post as GET /2/users/{id}/tweets returns it with
// tweet.fields=entities,referenced_tweets.
type timelinePost struct {
	ID       string `json:"id"`
	Text     string `json:"text"`
	Entities struct {
		URLs []struct {
			ExpandedURL string `json:"expanded_url"`
		} `json:"urls"`
	} `json:"entities"`
	ReferencedTweets []struct {
		Type string `json:"type"`
		ID   string `json:"id"`
	} `json:"referenced_tweets"`
}

// findDuplicate looks for the post X says text duplicates among the account's
// recent posts and returns it, or a permanent error wrapping refusal.
func (c *channel) findDuplicate(ctx context.Context, api *publishers.Client, text, parent string, refusal error) (publishers.Receipt, error) {
	const op = "look up recent posts"
	id, _, err := c.me(ctx, api)
	if err != nil {
		return publishers.Receipt{}, err
	}
	q := url.Values{
		"max_results":  {fmt.Sprint(recentPosts)},
		"tweet.fields": {"entities,referenced_tweets"},
	}
	var out struct {
		Data []json.RawMessage `json:"data"`
	}
	resp, err := api.Do(ctx, op, http.MethodGet, c.base+"/2/users/"+url.PathEscape(id)+"/tweets?"+q.Encode(), nil, &out)
	if err != nil {
		return publishers.Receipt{}, c.rateLimited(resp, err)
	}
	for _, raw := range out.Data {
		var t timelinePost
		if json.Unmarshal(raw, &t) != nil || t.ID == "" {
			continue
		}
		if repliesTo(t) == parent && sameText(t, text) {
			return c.receipt(t.ID), nil
		}
	}
	var he *publishers.HTTPError
	if errors.As(refusal, &he) {
		he.Hint = "" // the permission hint does not apply to a duplicate
	}
	return publishers.Receipt{}, publishers.Permanent(fmt.Errorf(
		"%w (none of the account's %d latest posts has this text, so it repeats an older post: change the template or the message)", refusal, recentPosts))
}

// repliesTo returns the id of the post t replies to, or "".
func repliesTo(t timelinePost) string {
	for _, r := range t.ReferencedTweets {
		if r.Type == "replied_to" {
			return r.ID
		}
	}
	return ""
}

// sameText reports whether X's rendering of a post is the text we sent. X
// returns text with &, < and > as HTML entities and every link rewritten to
// a t.co URL, so links are compared apart: the texts with links replaced by a
// placeholder must match, and every link X lists must be one of ours.
func sameText(t timelinePost, text string) bool {
	theirs, _ := withoutURLs(html.UnescapeString(t.Text))
	ours, links := withoutURLs(text)
	if theirs != ours {
		return false
	}
	for _, e := range t.Entities.URLs {
		found := false
		for _, l := range links {
			found = found || sameLink(e.ExpandedURL, l)
		}
		if !found {
			return false
		}
	}
	return true
}

// withoutURLs returns text, NFC-normalized, with each URL replaced by a
// placeholder and runs of white space collapsed, and the URLs themselves.
func withoutURLs(text string) (string, []string) {
	u := utf16.Encode([]rune(norm.NFC.String(text)))
	var b strings.Builder
	var links []string
	i := 0
	for _, e := range extractURLs(u) {
		if e.start < i {
			continue
		}
		end := min(e.start+e.length, len(u))
		b.WriteString(string(utf16.Decode(u[i:e.start])))
		b.WriteString("\x00")
		links = append(links, string(utf16.Decode(u[e.start:end])))
		i = end
	}
	b.WriteString(string(utf16.Decode(u[i:])))
	return strings.Join(strings.Fields(b.String()), " "), links
}

// sameLink compares an expanded URL from X with one of ours, ignoring the
// scheme X adds to bare domains, case in the host and a trailing slash.
func sameLink(expanded, ours string) bool {
	canon := func(s string) string {
		s = strings.TrimSuffix(s, "/")
		for _, p := range []string{"https://", "http://"} {
			if len(s) >= len(p) && strings.EqualFold(s[:len(p)], p) {
				s = s[len(p):]
			}
		}
		host, rest, _ := strings.Cut(s, "/")
		return strings.ToLower(host) + "/" + rest
	}
	return canon(expanded) == canon(ours)
}

// errorMessage reads X's error bodies: problem+json ({"title", "detail",
// "type", "status"}), with "errors" holding per-parameter messages on a 400,
// and the v1.1 form {"errors":[{"code","message"}]} some answers still use.
func errorMessage(body []byte) string {
	var p struct {
		Title  string `json:"title"`
		Detail string `json:"detail"`
		Errors []struct {
			Message string `json:"message"`
			Detail  string `json:"detail"`
		} `json:"errors"`
	}
	if json.Unmarshal(body, &p) != nil {
		return ""
	}
	msg := p.Detail
	if msg == "" {
		msg = p.Title
	}
	var more []string
	for _, e := range p.Errors {
		m := e.Message
		if m == "" {
			m = e.Detail
		}
		if m != "" && m != msg {
			more = append(more, m)
		}
	}
	if len(more) > 0 {
		if msg != "" {
			msg += ": "
		}
		msg += strings.Join(more, "; ")
	}
	return msg
}
