package twilio

import (
	"encoding/xml"
	"fmt"
	"strings"
	"time"

	"github.com/incident-cli/incident/pagers"
)

// Speech is what a call says: short, in sentences a text-to-speech voice
// reads well, without the command lines a text carries.
//
//	Critical alert: IMAP down. Affected: IMAP/POP. imap1: connection
//	refused. Firing for 12 minutes. Acknowledge it with incident ack.
func Speech(pg pagers.Page) string {
	title := sentence(pg.Title)
	var b strings.Builder
	switch pg.Kind {
	case pagers.KindAck:
		who := sentence(pg.AckedBy)
		if who == "" {
			who = "someone"
		}
		fmt.Fprintf(&b, "Stand down. %s was acknowledged by %s.", orIncident(title), who)
		return b.String()
	case pagers.KindManual:
		fmt.Fprintf(&b, "A colleague calls you in about %s.", orIncident(title))
		if s := sentence(pg.Summary); s != "" {
			b.WriteString(" The message: " + s + ".")
		}
		return b.String()
	case pagers.KindTest:
		b.WriteString("This is a test page from incident. ")
	}
	if sev := sentence(pg.Severity); sev != "" {
		b.WriteString(strings.ToUpper(sev[:1]) + sev[1:] + " alert: ")
	} else {
		b.WriteString("Alert: ")
	}
	b.WriteString(orIncident(title) + ".")
	if len(pg.Services) > 0 {
		b.WriteString(" Affected: " + sentence(strings.Join(pg.Services, ", ")) + ".")
	}
	if s := sentence(pg.Summary); s != "" && s != title {
		b.WriteString(" " + s + ".")
	}
	if !pg.Since.IsZero() && !pg.Now.IsZero() && pg.Now.After(pg.Since) {
		b.WriteString(" Firing for " + spoken(pg.Now.Sub(pg.Since)) + ".")
	}
	b.WriteString(" Acknowledge it with incident ack.")
	return b.String()
}

func orIncident(title string) string {
	if title == "" {
		return "an incident"
	}
	return title
}

// sentence makes text speakable on one line, without a final period.
func sentence(s string) string {
	s = strings.Join(strings.Fields(pagers.Plain(s)), " ")
	return strings.TrimRight(s, ".")
}

// spoken says a duration in words: "1 minute", "12 minutes", "3 hours".
func spoken(d time.Duration) string {
	plural := func(n int, unit string) string {
		if n == 1 {
			return "1 " + unit
		}
		return fmt.Sprintf("%d %ss", n, unit)
	}
	switch m := int(d.Round(time.Minute) / time.Minute); {
	case m < 1:
		return "less than a minute"
	case m < 120:
		return plural(m, "minute")
	default:
		return plural(int(d.Round(time.Hour)/time.Hour), "hour")
	}
}

// Twiml wraps text in <Response><Say loop="2">, said twice for a person
// just woken, escaped, and cut so that the whole stays within MaxTwiml.
func Twiml(text string) string {
	const open, end = `<Response><Say loop="2">`, `</Say></Response>`
	room := MaxTwiml - len(open) - len(end)
	esc := escape(text)
	if len(esc) > room {
		// Cut the text, not its escaped form, so no entity is split: the
		// escaped length is at most 6 bytes per byte of text ("&quot;").
		lo, hi := 0, len(text)
		for lo < hi {
			mid := (lo + hi + 1) / 2
			if len(escape(pagers.Cut(text, mid, nil))) <= room {
				lo = mid
			} else {
				hi = mid - 1
			}
		}
		esc = escape(pagers.Cut(text, lo, nil))
	}
	return open + esc + end
}

func escape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
