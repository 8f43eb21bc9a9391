package alerts

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// nodePingPayload is the body of a NodePing webhook contact. NodePing has no
// fixed payload: the contact's "data" template fills in variables, and the
// README gives this template:
//
//	{"event":"{event}","id":"{_id}","label":"{label}","target":"{target}",
//	 "checktime":"{checktime}","runtime":"{runtime}","message":"{message}",
//	 "description":"{description}","location":"{location}",
//	 "interval":"{interval}","downtime":"{downtime}"}
//
// Values may come as strings or numbers; "_id" is read as well as "id".
type nodePingPayload struct {
	Event       loose `json:"event"`
	ID          loose `json:"id"`
	UnderID     loose `json:"_id"`
	Label       loose `json:"label"`
	Target      loose `json:"target"`
	CheckTime   loose `json:"checktime"`
	Runtime     loose `json:"runtime"`
	Message     loose `json:"message"`
	Description loose `json:"description"`
	Location    loose `json:"location"`
	Interval    loose `json:"interval"`
	Downtime    loose `json:"downtime"`
}

const nodePingWhat = `the NodePing webhook body from the README ({"event":"{event}","id":"{_id}","label":"{label}",...})`

// parseNodePing reads one NodePing webhook notification: Key is the check id
// ({_id}), Name the check's label, and {event} says Down (firing) or Up
// (resolved). NodePing documents neither {event}'s values nor {checktime}'s
// format, so the event is read in any case (Down/Up, and the Fail/Pass of
// NodePing's results), and a check time that is neither a Unix time (s or
// ms) nor RFC 3339 leaves the times unknown rather than losing the alert.
func parseNodePing(body []byte) ([]Alert, error) {
	var p nodePingPayload
	if err := decode(SourceNodePing, body, &p, false, nodePingWhat); err != nil {
		return nil, err
	}
	id := firstOf(p.ID.value(), p.UnderID.value())
	if strings.TrimSpace(id) == "" {
		return nil, &InputError{Source: SourceNodePing, Field: "id",
			Msg: `missing; the webhook body must carry the check id: "id":"{_id}"`}
	}
	a := Alert{Key: id, Labels: map[string]string{}}
	switch strings.ToLower(strings.TrimSpace(p.Event.value())) {
	case "down", "fail", "failing":
		a.Firing = true
		a.Labels["state"] = string(StateDown)
	case "up", "pass", "passing":
		a.Labels["state"] = string(StateUp)
	case "":
		return nil, &InputError{Source: SourceNodePing, Field: "event",
			Msg: `missing; the webhook body must carry "event":"{event}" (Down or Up)`}
	default:
		return nil, &InputError{Source: SourceNodePing, Field: "event",
			Msg: fmt.Sprintf("%s; NodePing's {event} is Down or Up", quote(p.Event.value()))}
	}
	label := p.Label.value()
	a.Name = firstOf(label, p.Target.value(), id)
	at := looseTime(p.CheckTime.value())
	if a.Firing {
		a.StartsAt = at
		a.Summary = a.Name + " is down"
		if msg := p.Message.value(); strings.TrimSpace(msg) != "" {
			a.Summary += ": " + msg
		}
	} else {
		a.EndsAt = at
		a.Summary = a.Name + " is up"
		if mins, err := strconv.ParseFloat(strings.TrimSpace(p.Downtime.value()), 64); err == nil && mins >= 0 && mins < 1e6 {
			a.Summary += fmt.Sprintf(" after %s min down", strconv.FormatFloat(mins, 'f', -1, 64))
			if !at.IsZero() {
				a.StartsAt = at.Add(-time.Duration(mins * float64(time.Minute)))
			}
		}
	}
	a.Description = p.Description.value()
	for name, v := range map[string]loose{"label": p.Label, "target": p.Target, "location": p.Location,
		"interval": p.Interval, "runtime": p.Runtime} {
		if s := v.value(); strings.TrimSpace(s) != "" {
			a.Labels[name] = s
		}
	}
	return []Alert{a}, nil
}

// loose is a JSON value read as text: a string as is, a number or boolean
// as written, null as "". A template variable NodePing left unfilled
// ("{downtime}") reads as "".
type loose string

var (
	unfilled   = regexp.MustCompile(`^\{[A-Za-z_]+\}$`)
	stringType = reflect.TypeOf("")
)

func (l *loose) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*l = ""
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*l = loose(s)
	case len(b) > 0 && (b[0] == '{' || b[0] == '['):
		return &json.UnmarshalTypeError{Value: "object or array", Type: stringType}
	default:
		*l = loose(b)
	}
	return nil
}

func (l loose) value() string {
	s := string(l)
	if unfilled.MatchString(strings.TrimSpace(s)) {
		return ""
	}
	return s
}

// looseTime reads a time whose format the source does not document: Unix
// seconds or milliseconds, RFC 3339, or "2006-01-02 15:04:05" in UTC; zero
// for anything else.
func looseTime(s string) time.Time {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		switch {
		case n > 1e14 || n <= 0:
			return time.Time{}
		case n > 1e11:
			return time.UnixMilli(n).UTC()
		default:
			return time.Unix(n, 0).UTC()
		}
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05", "2006-01-02T15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil && t.Year() > 1970 {
			return t.UTC()
		}
	}
	return time.Time{}
}
