package bluesky

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/incident-cli/incident/publishers"
)

const collection = "app.bsky.feed.post"

type strongRef struct {
	URI string `json:"uri"`
	CID string `json:"cid"`
}

type replyRef struct {
	Root   strongRef `json:"root"`
	Parent strongRef `json:"parent"`
}

type byteSlice struct {
	ByteStart int `json:"byteStart"`
	ByteEnd   int `json:"byteEnd"`
}

type feature struct {
	Type string `json:"$type"`
	URI  string `json:"uri"`
}

type facet struct {
	Index    byteSlice `json:"index"`
	Features []feature `json:"features"`
}

// postRecord is an app.bsky.feed.post record.
type postRecord struct {
	Type      string    `json:"$type"`
	Text      string    `json:"text"`
	CreatedAt string    `json:"createdAt"`
	Facets    []facet   `json:"facets,omitempty"`
	Reply     *replyRef `json:"reply,omitempty"`
}

type createRecordInput struct {
	Repo       string     `json:"repo"`
	Collection string     `json:"collection"`
	Rkey       string     `json:"rkey"`
	Record     postRecord `json:"record"`
}

// Publish creates the post, replying under the thread when there is one.
// See the package doc for what makes a second attempt safe.
func (c *channel) Publish(ctx context.Context, p publishers.Post) (publishers.Receipt, error) {
	const op = "create post"
	text := string([]rune(p.Text)) // invalid UTF-8 becomes U+FFFD here, as JSON would send it
	if strings.TrimSpace(text) == "" {
		return publishers.Receipt{}, publishers.Permanent(errors.New(op + ": the rendered text is empty"))
	}
	rkey, err := recordKey(p)
	if err != nil {
		return publishers.Receipt{}, publishers.Permanent(fmt.Errorf("%s: %w", op, err))
	}
	rec := postRecord{
		Type:      collection,
		Text:      text,
		CreatedAt: c.env.Now().UTC().Format("2006-01-02T15:04:05.000Z"),
		Facets:    linkFacets(text),
	}
	if rec.Reply, err = c.replyTo(ctx, p); err != nil {
		return publishers.Receipt{}, err
	}
	var out strongRef
	s, err := c.authed(ctx, func(s *session) error {
		in := createRecordInput{Repo: s.Did, Collection: collection, Rkey: rkey, Record: rec}
		_, err := c.call(ctx, op, http.MethodPost, "com.atproto.repo.createRecord", s.AccessJwt, in, &out)
		return err
	})
	var he *publishers.HTTPError
	if err != nil && s != nil && errors.As(err, &he) && he.Status != http.StatusTooManyRequests && he.Status != http.StatusUnauthorized && !tokenRefused(err) {
		// Perhaps an earlier attempt created the record: the PDS refuses a
		// second one with the same key (with a 500 today).
		if r, found, gerr := c.existing(ctx, s, rkey, text); found {
			return r, gerr
		}
	}
	if err != nil {
		return publishers.Receipt{}, err
	}
	if out.URI == "" || out.CID == "" {
		return publishers.Receipt{}, errors.New(op + ": the answer lacks uri or cid")
	}
	return c.receipt(s, out), nil
}

// existing fetches the post with record key rkey. found is false when there
// is none (or the PDS cannot say); err is set when the record holds another
// text: two posts share a key, which retrying cannot fix.
func (c *channel) existing(ctx context.Context, s *session, rkey, text string) (r publishers.Receipt, found bool, err error) {
	var out struct {
		strongRef
		Value struct {
			Text string `json:"text"`
		} `json:"value"`
	}
	q := url.Values{"repo": {s.Did}, "collection": {collection}, "rkey": {rkey}}
	if _, err := c.call(ctx, "look up post", http.MethodGet, "com.atproto.repo.getRecord", "", q, &out); err != nil || out.URI == "" || out.CID == "" {
		return publishers.Receipt{}, false, nil
	}
	if out.Value.Text != text {
		return publishers.Receipt{}, true, publishers.Permanent(fmt.Errorf(
			"create post: record key %s already holds another post (%q); two updates map to the same key, so post this one by hand", rkey, out.Value.Text))
	}
	return c.receipt(s, out.strongRef), true, nil
}

// replyTo builds the reply reference from the thread's first and latest
// receipts (nil for a first post).
func (c *channel) replyTo(ctx context.Context, p publishers.Post) (*replyRef, error) {
	root, parent := p.Thread, p.Parent
	if root == nil {
		root = parent
	}
	if parent == nil {
		parent = root
	}
	if root == nil {
		return nil, nil
	}
	var r replyRef
	var err error
	if r.Root, err = c.ref(ctx, root); err != nil {
		return nil, err
	}
	if r.Parent, err = c.ref(ctx, parent); err != nil {
		return nil, err
	}
	return &r, nil
}

// ref turns a receipt into a strong reference; a receipt without a cid
// (written by hand, say) is completed with getRecord.
func (c *channel) ref(ctx context.Context, r *publishers.Receipt) (strongRef, error) {
	uri := r.Meta["uri"]
	if uri == "" {
		uri = r.ID
	}
	if cid := r.Meta["cid"]; cid != "" && strings.HasPrefix(uri, "at://") {
		return strongRef{URI: uri, CID: cid}, nil
	}
	parts := strings.Split(strings.TrimPrefix(uri, "at://"), "/")
	if !strings.HasPrefix(uri, "at://") || len(parts) != 3 {
		return strongRef{}, publishers.Permanent(fmt.Errorf("create post: the earlier post's receipt %q is not an at:// record URI", uri))
	}
	var out strongRef
	q := url.Values{"repo": {parts[0]}, "collection": {parts[1]}, "rkey": {parts[2]}}
	if _, err := c.call(ctx, "look up earlier post", http.MethodGet, "com.atproto.repo.getRecord", "", q, &out); err != nil {
		return strongRef{}, err
	}
	if out.CID == "" {
		return strongRef{}, errors.New("look up earlier post: the answer lacks a cid")
	}
	return strongRef{URI: uri, CID: out.CID}, nil
}

// receipt describes a created record: its at:// URI as the id, the web URL
// under the account's handle, and uri and cid for later replies.
func (c *channel) receipt(s *session, ref strongRef) publishers.Receipt {
	rkey := ref.URI[strings.LastIndexByte(ref.URI, '/')+1:]
	return publishers.Receipt{
		ID:   ref.URI,
		URL:  "https://bsky.app/profile/" + url.PathEscape(s.Handle) + "/post/" + url.PathEscape(rkey),
		At:   c.env.Now(),
		Meta: map[string]string{"uri": ref.URI, "cid": ref.CID},
	}
}

// recordKey derives the post's record key from Post.Key: a TID (13
// characters of base32-sortable) whose timestamp is the update's time to the
// second, with the microseconds and the 10-bit clock id hashed from the key.
// Every attempt at the same post asks for the same key; two posts of the same
// second (an update and its RFO) get different ones but for a chance of one
// in 2^30.
func recordKey(p publishers.Post) (string, error) {
	if p.Key == "" {
		return "", errors.New("the post has no key")
	}
	t := updateTime(p)
	if t.Before(time.Unix(0, 0)) || t.IsZero() {
		return "", errors.New("the post carries no update time to derive its record key from")
	}
	h := sha256.Sum256([]byte(p.Key))
	micros := uint64(t.Unix())*1e6 + binary.BigEndian.Uint64(h[:8])%1e6
	v := (micros&(1<<53-1))<<10 | uint64(binary.BigEndian.Uint16(h[8:10])&0x3FF)
	const alphabet = "234567abcdefghijklmnopqrstuvwxyz"
	var b [13]byte
	for i := 12; i >= 0; i-- {
		b[i] = alphabet[v&31]
		v >>= 5
	}
	return string(b[:]), nil
}

// updateTime is when the update being published was made.
func updateTime(p publishers.Post) time.Time {
	inc := p.Incident
	if p.Kind == publishers.KindRFO && inc.RFO != nil && !inc.RFO.At.IsZero() {
		return inc.RFO.At
	}
	if n := len(inc.Updates); n > 0 && !inc.Updates[n-1].At.IsZero() {
		return inc.Updates[n-1].At
	}
	if !inc.OpenedAt.IsZero() {
		return inc.OpenedAt
	}
	return inc.StartedAt
}

// linkFacets returns a link facet over every http:// or https:// URL in
// text, with UTF-8 byte offsets. A URL ends at white space; closing
// punctuation at its end (".", ",", ")" without a matching "(") is left out.
func linkFacets(text string) []facet {
	var out []facet
	for i := 0; i < len(text); {
		k := urlStart(text[i:])
		if k < 0 {
			break
		}
		start := i + k
		end := start + strings.IndexFunc(text[start:]+" ", unicode.IsSpace)
		end = start + len(trimURL(text[start:end]))
		if u, err := url.Parse(text[start:end]); err == nil && u.Host != "" {
			out = append(out, facet{
				Index:    byteSlice{ByteStart: start, ByteEnd: end},
				Features: []feature{{Type: "app.bsky.richtext.facet#link", URI: text[start:end]}},
			})
		}
		i = max(end, start+1)
	}
	return out
}

// urlStart finds the next "http://" or "https://" that starts a word.
func urlStart(s string) int {
	for i := 0; i < len(s); i++ {
		if (strings.HasPrefix(s[i:], "https://") || strings.HasPrefix(s[i:], "http://")) &&
			(i == 0 || !isWordByte(s[i-1])) {
			return i
		}
	}
	return -1
}

func isWordByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '_'
}

// trimURL drops trailing punctuation that ends a sentence rather than the URL.
func trimURL(u string) string {
	for u != "" {
		last := u[len(u)-1]
		switch {
		case strings.IndexByte(".,;:!?'\"", last) >= 0:
			u = u[:len(u)-1]
		case last == ')' && strings.Count(u, "(") < strings.Count(u, ")"):
			u = u[:len(u)-1]
		default:
			return u
		}
	}
	return u
}
