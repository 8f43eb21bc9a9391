package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/incident-cli/incident/runbook"
)

// parseTime reads a time a responder types: RFC 3339, "2006-01-02 15:04",
// "15:04" (today, or yesterday if that is in the future) in the runbook's
// primary zone, or a duration ago ("25m ago", "1h30m ago"). It must not be in
// the future.
func parseTime(s string, rb *runbook.Runbook) (time.Time, error) {
	now := rb.Now()
	zone := rb.Zones[0]
	s = strings.TrimSpace(s)
	if d, ok := strings.CutSuffix(s, " ago"); ok {
		v, err := time.ParseDuration(strings.ReplaceAll(d, " ", ""))
		if err != nil || v < 0 {
			return time.Time{}, fmt.Errorf("%q: write a duration like \"25m ago\" or \"1h30m ago\"", s)
		}
		return now.Add(-v), nil
	}
	var t time.Time
	var err error
	for _, layout := range []string{time.RFC3339, "2006-01-02 15:04", "2006-01-02T15:04", "15:04"} {
		if layout == time.RFC3339 {
			t, err = time.Parse(layout, s)
		} else {
			t, err = time.ParseInLocation(layout, s, zone)
		}
		if err != nil {
			continue
		}
		if layout == "15:04" {
			local := now.In(zone)
			t = time.Date(local.Year(), local.Month(), local.Day(), t.Hour(), t.Minute(), 0, 0, zone)
			if t.After(now) {
				t = t.AddDate(0, 0, -1)
			}
		}
		if t.After(now.Add(time.Minute)) {
			return time.Time{}, fmt.Errorf("%q is in the future", s)
		}
		return t.UTC(), nil
	}
	return time.Time{}, fmt.Errorf("%q is not a time: use \"09:40\" (%s), \"2026-11-27 09:40\", RFC 3339, or \"25m ago\"", s, now.In(zone).Format("MST"))
}

// parseClock reads the time `tick --now` runs at: RFC 3339, "2006-01-02
// 15:04" or "15:04" (today) in the runbook's primary zone, or "+15m" from
// now. Unlike parseTime it may be in the future: a drill moves the clock.
func parseClock(s string, rb *runbook.Runbook) (time.Time, error) {
	s = strings.TrimSpace(s)
	now := rb.Now()
	if d, ok := strings.CutPrefix(s, "+"); ok {
		v, err := time.ParseDuration(d)
		if err != nil {
			return time.Time{}, fmt.Errorf("%q: write a duration like \"+15m\"", s)
		}
		return now.Add(v), nil
	}
	zone := rb.Zones[0]
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	for _, layout := range []string{"2006-01-02 15:04", "2006-01-02T15:04"} {
		if t, err := time.ParseInLocation(layout, s, zone); err == nil {
			return t.UTC(), nil
		}
	}
	if t, err := time.ParseInLocation("15:04", s, zone); err == nil {
		local := now.In(zone)
		return time.Date(local.Year(), local.Month(), local.Day(), t.Hour(), t.Minute(), 0, 0, zone).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("%q is not a time: use RFC 3339, \"2026-12-01 12:15\", \"12:15\" or \"+15m\"", s)
}
