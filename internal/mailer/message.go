package mailer

import (
	"errors"
	"fmt"
	"strings"

	gomail "github.com/wneessen/go-mail"
)

// Message is one mail to send. Text is required; every header value is
// cleaned of control characters before it is written.
type Message struct {
	To      []string // recipient addresses
	Subject string
	Text    string // the text/plain body
	HTML    string // an optional text/html alternative (a whole document)
	// ID is the Message-ID, with angle brackets (see MessageID).
	ID string
	// InReplyTo and References thread the message: the parent's
	// Message-ID, and the thread's ids from the first to the parent.
	InReplyTo  string
	References []string
	// ListUnsubscribe is the List-Unsubscribe value ("<mailto:…>, <https://…>")
	// and ListID the List-Id ("Status <status.example.com>"), when set.
	ListUnsubscribe string
	ListID          string
	// Bulk marks mail to a list: Precedence: bulk.
	Bulk bool
}

// build turns m into a go-mail message.
func (s *Sender) build(m Message) (*gomail.Msg, error) {
	if len(m.To) == 0 {
		return nil, errors.New("no recipient")
	}
	msg := gomail.NewMsg()
	msg.SetCharset(gomail.CharsetUTF8)
	msg.SetEncoding(gomail.EncodingQP)
	if err := msg.From(s.from.String()); err != nil {
		return nil, fmt.Errorf("from: %w", err)
	}
	if err := msg.To(m.To...); err != nil {
		return nil, fmt.Errorf("to: %w", err)
	}
	msg.Subject(CleanLine(m.Subject))
	msg.SetDateWithValue(s.now())
	if id := validID(m.ID); id != "" {
		msg.SetMessageIDWithValue(strings.Trim(id, "<>"))
	} else {
		msg.SetMessageID()
	}
	if id := validID(m.InReplyTo); id != "" {
		msg.SetGenHeader(gomail.HeaderInReplyTo, id)
	}
	var refs []string
	for _, r := range m.References {
		if id := validID(r); id != "" {
			refs = append(refs, id)
		}
	}
	if len(refs) > 0 {
		msg.SetGenHeader(gomail.HeaderReferences, strings.Join(refs, " "))
	}
	if v := CleanLine(m.ListUnsubscribe); v != "" {
		msg.SetGenHeader(gomail.HeaderListUnsubscribe, v)
	}
	if v := CleanLine(m.ListID); v != "" {
		msg.SetGenHeader(gomail.Header("List-Id"), v)
	}
	// RFC 3834: automatic mail; vacation responders must not answer it.
	msg.SetGenHeader(gomail.Header("Auto-Submitted"), "auto-generated")
	if m.Bulk {
		msg.SetBulk()
	}
	msg.SetUserAgent("incident")
	msg.SetBodyString(gomail.TypeTextPlain, CleanText(m.Text))
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, CleanText(m.HTML))
	}
	return msg, nil
}

// validID returns id if it looks like a Message-ID (<left@right>, no spaces
// or control characters), else "": ids come from records, which a person
// can edit, and go into headers.
func validID(id string) string {
	id = strings.TrimSpace(id)
	if len(id) < 5 || len(id) > 250 || id[0] != '<' || id[len(id)-1] != '>' {
		return ""
	}
	inner := id[1 : len(id)-1]
	at := strings.IndexByte(inner, '@')
	if at <= 0 || at == len(inner)-1 || strings.ContainsFunc(inner, func(r rune) bool {
		return r <= ' ' || r >= 0x7f || r == '<' || r == '>' || r == '"' || r == '\\'
	}) {
		return ""
	}
	return id
}

// CleanLine makes s safe for one header line: control characters (CR and LF
// included, so nothing can start a header of its own) become spaces, runs of
// spaces collapse, and the ends are trimmed.
func CleanLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if isControl(r) {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// CleanText makes s safe for a body: line endings become \n (go-mail writes
// CRLF), and control characters other than tab and newline are dropped (an
// alert summary may hold terminal escapes).
func CleanText(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return r
		}
		if isControl(r) {
			return -1
		}
		return r
	}, s)
}

func isControl(r rune) bool {
	return r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 || r == '\u2028' || r == '\u2029'
}
