package runbook

import (
	"fmt"
	"strings"
	"time"
)

// RotaShift is one [[rota]] table: who is on call when. The first shift
// that covers a moment names the person on call then, so overrides (a
// holiday, a swap) go first. A shift names one person, or a rotation:
// people take turns of `every` ("daily", "weekly", or a duration like
// "12h"), the first turn beginning at `start`. `days`, `from` and `to`
// limit it to a window of each day ("08:00" to "18:00" on weekdays; a `to`
// before `from` crosses midnight), in `zone`.
//
//	[[rota]]                     # weekdays, office hours: alice
//	person = "alice"
//	days = ["mon", "tue", "wed", "thu", "fri"]
//	from = "08:00"
//	to = "18:00"
//	zone = "Europe/Oslo"
//
//	[[rota]]                     # the rest of the time: bob and carol, a week each
//	people = ["bob", "carol"]
//	every = "weekly"
//	start = "2026-01-05 09:00"
type RotaShift struct {
	Person string   `toml:"person"`
	People []string `toml:"people"`
	Every  string   `toml:"every"`
	Start  string   `toml:"start"`
	Days   []string `toml:"days"`
	From   string   `toml:"from"`
	To     string   `toml:"to"`
	Zone   string   `toml:"zone"`

	win      window
	every    time.Duration // a turn's length, when not calendar days
	calendar int           // a turn in calendar days (1 daily, 7 weekly) at start's time of day; 0 for a duration
	start    time.Time
}

// rotaKeys are the keys of [[rota]].
var rotaKeys = []string{"person", "people", "every", "start", "days", "from", "to", "zone"}

// QuietHours is [paging.quiet_hours]: a window of each day in which only
// critical incidents page. For the others the escalation's clock stops in
// quiet hours and runs on when they end: an alert at 23:00 pages its first
// level at 07:00, and its second level `after` later.
type QuietHours struct {
	From string   `toml:"from"`
	To   string   `toml:"to"`
	Zone string   `toml:"zone"`
	Days []string `toml:"days"`

	win window
}

// PagingConfig is the [paging] table.
type PagingConfig struct {
	QuietHours *QuietHours `toml:"quiet_hours"`
}

var (
	pagingConfigKeys = []string{"quiet_hours"}
	quietKeys        = []string{"from", "to", "zone", "days"}
)

// window is a daily window in a zone: from `from` (minutes after midnight)
// for `length` minutes, starting on the days allowed.
type window struct {
	loc    *time.Location
	days   [7]bool // by time.Weekday
	from   int
	length int // 1..1440
}

var weekdays = map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}

// newWindow parses days, from and to in zone (the fallback when "").
func newWindow(days []string, from, to, zone string, fallback *time.Location) (window, error) {
	w := window{loc: fallback}
	if zone != "" {
		loc, err := time.LoadLocation(zone)
		if err != nil {
			return w, fmt.Errorf("zone: unknown time zone %q; use IANA names like \"Europe/Oslo\"", zone)
		}
		w.loc = loc
	}
	if len(days) == 0 {
		for i := range w.days {
			w.days[i] = true
		}
	}
	for _, d := range days {
		key := strings.ToLower(strings.TrimSpace(d))
		wd, ok := weekdays[key]
		if !ok && len(key) > 3 {
			wd, ok = weekdays[key[:3]]
			ok = ok && strings.EqualFold(wd.String(), key)
		}
		if !ok {
			return w, fmt.Errorf("days: %q is not a day (mon, tue, wed, thu, fri, sat, sun)", d)
		}
		w.days[wd] = true
	}
	var err error
	if (from == "") != (to == "") {
		return w, fmt.Errorf("give both `from` and `to` (or neither, for the whole day)")
	}
	if from != "" {
		if w.from, err = parseClockTime(from); err != nil {
			return w, fmt.Errorf("from: %v", err)
		}
		t, err := parseClockTime(to)
		if err != nil {
			return w, fmt.Errorf("to: %v", err)
		}
		w.length = ((t-w.from)%1440 + 1440) % 1440
	}
	if w.length == 0 {
		w.length = 1440
	}
	return w, nil
}

// occurrence returns the window's occurrence that starts on the day of d
// (in its zone), and whether that day is allowed.
func (w window) occurrence(d time.Time) (start, end time.Time, ok bool) {
	y, m, day := d.In(w.loc).Date()
	start = time.Date(y, m, day, w.from/60, w.from%60, 0, 0, w.loc)
	end = time.Date(y, m, day, w.from/60, w.from%60+w.length, 0, 0, w.loc)
	return start, end, w.days[start.Weekday()]
}

// around returns the occurrence holding t, if one does.
func (w window) around(t time.Time) (start, end time.Time, ok bool) {
	for _, back := range []int{0, -1} {
		s, e, allowed := w.occurrence(t.In(w.loc).AddDate(0, 0, back))
		if allowed && !t.Before(s) && t.Before(e) {
			return s, e, true
		}
	}
	return time.Time{}, time.Time{}, false
}

// nextStart returns the first occurrence to start after t.
func (w window) nextStart(t time.Time) time.Time {
	for ahead := 0; ahead <= 8; ahead++ {
		s, _, allowed := w.occurrence(t.In(w.loc).AddDate(0, 0, ahead))
		if allowed && s.After(t) {
			return s
		}
	}
	return t.AddDate(1, 0, 0) // no allowed day: never
}

// paceEnd returns when d of time outside quiet hours has passed since
// start: start+d when no quiet hours apply. A moment inside quiet hours
// moves to their end.
func paceEnd(q *window, start time.Time, d time.Duration) time.Time {
	if q == nil {
		return start.Add(d)
	}
	cur, left := start, d
	for range 1000 {
		if _, end, in := q.around(cur); in {
			cur = end
			continue
		}
		next := q.nextStart(cur)
		if cur.Add(left).Before(next) {
			return cur.Add(left)
		}
		left -= next.Sub(cur)
		cur = next
	}
	return cur
}

// activeTime is how much of [from, to) lies outside quiet hours.
func activeTime(q *window, from, to time.Time) time.Duration {
	if q == nil {
		return to.Sub(from)
	}
	var sum time.Duration
	cur := from
	for range 1000 {
		if !cur.Before(to) {
			break
		}
		if _, end, in := q.around(cur); in {
			cur = end
			continue
		}
		next := q.nextStart(cur)
		if next.After(to) {
			next = to
		}
		sum += next.Sub(cur)
		cur = next
	}
	return sum
}

// check parses a shift; where names it for errors.
func (s *RotaShift) check(fallback *time.Location) error {
	switch {
	case s.Person == "" && len(s.People) == 0:
		return fmt.Errorf("name who is on call: `person = \"alice\"`, or a rotation `people = [\"alice\", \"bob\"]` with `every` and `start`")
	case s.Person != "" && len(s.People) > 0:
		return fmt.Errorf("give `person` or `people`, not both")
	}
	for _, p := range s.people() {
		if err := checkRotaPerson(p); err != nil {
			return err
		}
	}
	var err error
	if s.win, err = newWindow(s.Days, s.From, s.To, s.Zone, fallback); err != nil {
		return err
	}
	if len(s.People) == 0 {
		if s.Every != "" || s.Start != "" {
			return fmt.Errorf("`every` and `start` belong to a rotation: use `people = [...]`")
		}
		return nil
	}
	switch s.Every {
	case "":
		return fmt.Errorf("a rotation needs `every`: \"daily\", \"weekly\" or a duration like \"12h\"")
	case "daily":
		s.calendar = 1
	case "weekly":
		s.calendar = 7
	default:
		if s.every, err = time.ParseDuration(s.Every); err != nil || s.every < time.Hour {
			return fmt.Errorf("every: %q is not \"daily\", \"weekly\" or a duration of at least an hour like \"12h\"", s.Every)
		}
	}
	if s.Start == "" {
		return fmt.Errorf("a rotation needs `start`: when %s's first turn begins, like \"2026-01-05 09:00\"", s.People[0])
	}
	if s.start, err = time.ParseInLocation("2006-01-02 15:04", s.Start, s.win.loc); err != nil {
		return fmt.Errorf("start: %q is not a time like \"2026-01-05 09:00\" (in the shift's zone)", s.Start)
	}
	return nil
}

func checkRotaPerson(p string) error {
	if strings.EqualFold(p, "oncall") {
		return fmt.Errorf("%q names the rota's person itself; put real names in [[rota]]", p)
	}
	if p == "" || strings.ContainsAny(p, ":, \t/") {
		return fmt.Errorf("person %q: a name holds no colon, comma, slash or space (it is a name in the pagers' `to` tables)", p)
	}
	return nil
}

// at says whether the shift covers t, and who is on call then.
func (s *RotaShift) at(t time.Time) (string, bool) {
	if _, _, ok := s.win.around(t); !ok {
		return "", false
	}
	if len(s.People) == 0 {
		return s.Person, true
	}
	var n int
	if s.calendar > 0 {
		lt, ls := t.In(s.win.loc), s.start.In(s.win.loc)
		days := civilDays(lt) - civilDays(ls)
		if clockOf(lt) < clockOf(ls) {
			days--
		}
		n = floorDiv(days, s.calendar)
	} else {
		n = int(floorDiv64(int64(t.Sub(s.start)), int64(s.every)))
	}
	k := len(s.People)
	return s.People[((n%k)+k)%k], true
}

// people lists everyone the shift can name.
func (s *RotaShift) people() []string {
	if len(s.People) > 0 {
		return s.People
	}
	return []string{s.Person}
}

// civilDays numbers a date in its own zone (days since 1970-01-01).
func civilDays(t time.Time) int {
	y, m, d := t.Date()
	return int(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

func clockOf(t time.Time) int { return t.Hour()*3600 + t.Minute()*60 + t.Second() }

func floorDiv(a, b int) int {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func floorDiv64(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// OnCall returns who the [[rota]] says is on call at t, or "" when no
// shift covers t (or there is no rota).
func (r *Runbook) OnCall(t time.Time) string {
	if r.Escalation == nil {
		return ""
	}
	for _, s := range r.Escalation.Rota {
		if p, ok := s.at(t); ok {
			return p
		}
	}
	return ""
}
