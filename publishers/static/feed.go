package static

import (
	"bytes"
	"encoding/xml"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/incident-cli/incident/publishers"
)

// Atom (RFC 4287) types.
type atomFeed struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	ID      string      `xml:"id"`
	Title   string      `xml:"title"`
	Updated string      `xml:"updated"`
	Author  atomAuthor  `xml:"author"`
	Links   []atomLink  `xml:"link"`
	Entries []atomEntry `xml:"entry"`
}

type atomAuthor struct {
	Name string `xml:"name"`
}

type atomLink struct {
	Rel  string `xml:"rel,attr,omitempty"`
	Href string `xml:"href,attr"`
}

type atomEntry struct {
	ID      string      `xml:"id"`
	Title   string      `xml:"title"`
	Updated string      `xml:"updated"`
	Link    atomLink    `xml:"link"`
	Content atomContent `xml:"content"`
}

type atomContent struct {
	Type string `xml:"type,attr"`
	Body string `xml:",chardata"`
}

// FeedEntries is how many updates a feed carries.
const FeedEntries = 50

// serviceFeed is the file name of a service's feed, beside feed.atom.
func serviceFeed(id string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(id) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	return "feed-" + b.String() + ".atom"
}

// writeFeeds writes feed.atom (every update) and one feed per service (the
// updates of incidents affecting it).
func (p *Publisher) writeFeeds(d *SiteData, w *files) error {
	if err := p.writeFeed(d, "feed.atom", p.org+" status", "", w); err != nil {
		return err
	}
	for _, s := range d.Services {
		if err := p.writeFeed(d, serviceFeed(s.ID), p.org+" status: "+s.Name, s.ID, w); err != nil {
			return err
		}
	}
	return nil
}

// writeFeed writes one feed: the newest FeedEntries updates of the
// incidents affecting service ("" for all).
func (p *Publisher) writeFeed(d *SiteData, name, title, service string, w *files) error {
	base := p.baseURL
	feedID := "urn:incident:status:" + strings.ReplaceAll(strings.ToLower(p.org), " ", "-")
	if service != "" {
		feedID += ":" + service
	}
	if base != "" {
		feedID = base + "/" + name
	}
	f := atomFeed{ID: feedID, Title: title, Author: atomAuthor{Name: p.org}, Updated: d.Now.UTC().Format(time.RFC3339)}
	if base != "" {
		f.Links = []atomLink{{Rel: "self", Href: base + "/" + name}, {Rel: "alternate", Href: base + "/"}}
	}
	type item struct {
		e *Entry
		u EntryUpdate
	}
	var items []item
	for i := range d.Incidents {
		e := &d.Incidents[i]
		if service != "" && !slices.ContainsFunc(e.Services, func(s publishers.Service) bool { return s.ID == service }) {
			continue
		}
		for _, u := range e.Updates {
			items = append(items, item{e, u})
		}
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].u.At.After(items[j].u.At) })
	if len(items) > FeedEntries {
		items = items[:FeedEntries]
	}
	if len(items) > 0 { // the feed changed when its newest entry did
		f.Updated = items[0].u.At.UTC().Format(time.RFC3339)
	}
	for _, it := range items {
		link := it.e.URL
		id := "urn:incident:" + it.e.ID + ":update:" + strconv.Itoa(it.u.Number)
		if base != "" {
			id = link + "#update-" + strconv.Itoa(it.u.Number)
		}
		f.Entries = append(f.Entries, atomEntry{
			ID: id, Title: "[" + it.e.Label(it.u.Status) + "] " + it.e.Title,
			Updated: it.u.At.UTC().Format(time.RFC3339), Link: atomLink{Rel: "alternate", Href: link},
			Content: atomContent{Type: "html", Body: it.u.HTML},
		})
	}
	var b bytes.Buffer
	b.WriteString(xml.Header)
	enc := xml.NewEncoder(&b)
	enc.Indent("", "  ")
	if err := enc.Encode(f); err != nil {
		return err
	}
	b.WriteByte('\n')
	return w.write(p.dir, name, b.Bytes())
}
