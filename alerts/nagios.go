package alerts

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// notification is one Nagios or Checkmk host or service notification, as the
// source's variables give it; alert turns it into an Alert.
type notification struct {
	source        string
	field         func(macro string) string // names a macro in an error: "NAGIOS_SERVICESTATE"
	Type          string                    // NOTIFICATIONTYPE as sent
	Host          string
	Service       string // "" for a host notification
	State         string // SERVICESTATE or HOSTSTATE as sent
	LastState     string // the state before this notification's change
	ProblemID     string
	LastProblemID string
	Output        string
	LongOutput    string    // with newlines escaped as \n, as both send it
	Changed       time.Time // the last state change
	At            time.Time // when the notification was sent
	URL           string
	Labels        map[string]string
}

// alert maps the notification: a PROBLEM fires, a RECOVERY resolves, the
// other types are Ignored. Key is "host/service" (the host alone for a host
// notification; a "/" or "%" in the host name is escaped as %2F, %25 so that
// the first "/" always ends the host), Group the problem id, which Nagios and
// Checkmk move to LAST*PROBLEMID on recovery.
func (n notification) alert() (Alert, error) {
	word, k, ok := notificationKind(n.Type)
	switch {
	case strings.TrimSpace(n.Type) == "":
		return Alert{}, &InputError{Source: n.source, Field: n.field("NOTIFICATIONTYPE"),
			Msg: "missing; " + n.source + " sets it for every notification (PROBLEM, RECOVERY, ...)"}
	case !ok:
		return Alert{}, &InputError{Source: n.source, Field: n.field("NOTIFICATIONTYPE"),
			Msg: fmt.Sprintf("%s is not a notification type %s sends (PROBLEM, RECOVERY, ACKNOWLEDGEMENT, FLAPPING*, DOWNTIME*, CUSTOM)", quote(n.Type), n.source)}
	case k == kindIgnored:
		return Alert{}, &Ignored{Source: n.source, Reason: word + " notification"}
	}
	if strings.TrimSpace(n.Host) == "" {
		return Alert{}, &InputError{Source: n.source, Field: n.field("HOSTNAME"), Msg: "missing; the notification names no host"}
	}
	stateMacro, valid, want := "SERVICESTATE", State.service, "OK, WARNING, CRITICAL or UNKNOWN"
	if n.Service == "" {
		stateMacro, valid, want = "HOSTSTATE", State.host, "UP, DOWN or UNREACHABLE"
	}
	state, ok := ParseState(n.State)
	if !ok || !valid(state) {
		what := "missing"
		if strings.TrimSpace(n.State) != "" {
			what = quote(n.State) + " is not a state"
		}
		return Alert{}, &InputError{Source: n.source, Field: n.field(stateMacro), Msg: fmt.Sprintf("%s; want %s", what, want)}
	}
	host := strings.NewReplacer("%", "%25", "/", "%2F").Replace(n.Host)
	a := Alert{Key: host, Name: n.Host, Firing: k == kindProblem}
	if n.Service != "" {
		a.Key += "/" + n.Service
		a.Name += "/" + n.Service
	}
	at := n.Changed
	if at.IsZero() {
		at = n.At
	}
	if a.Firing {
		a.Group = problemID(n.ProblemID)
		a.StartsAt = at
		if state.Problem() {
			a.Severity = string(state)
		}
	} else {
		a.Group = firstOf(problemID(n.LastProblemID), problemID(n.ProblemID))
		a.EndsAt = at
		if last, ok := ParseState(n.LastState); ok && last.Problem() {
			a.Severity = string(last)
		}
	}
	a.Summary = a.Name + " is " + strings.ToUpper(string(state))
	if out := strings.TrimSpace(n.Output); out != "" {
		a.Summary += ": " + out
	}
	a.Description = strings.ReplaceAll(n.LongOutput, `\n`, "\n")
	a.URL = n.URL
	a.Labels = map[string]string{"host": n.Host, "state": string(state), "notification_type": strings.ToLower(word)}
	if n.Service != "" {
		a.Labels["service"] = n.Service
	}
	for k, v := range n.Labels {
		if strings.TrimSpace(v) != "" {
			a.Labels[k] = v
		}
	}
	return a, nil
}

// problemID is a problem id as Group: "" for none ("" or "0").
func problemID(s string) string {
	s = strings.TrimSpace(s)
	if s == "0" {
		return ""
	}
	return s
}

// macro reads a macro value, "" for one the monitoring core did not expand
// ("$SERVICEPROBLEMID$" passed on literally).
func macro(v string) string {
	t := strings.TrimSpace(v)
	if len(t) >= 3 && t[0] == '$' && t[len(t)-1] == '$' && strings.Trim(t[1:len(t)-1], "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == "" {
		return ""
	}
	return v
}

// unixTime reads a Unix time in seconds ("0" and "" are unknown), or with
// micro the microseconds of Checkmk's MICROTIME.
func unixTime(source, field, s string, micro bool) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "0" {
		return time.Time{}, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > 1e17 {
		return time.Time{}, &InputError{Source: source, Field: field, Msg: fmt.Sprintf("%s is not a Unix time", quote(s))}
	}
	if micro {
		return time.UnixMicro(n).UTC(), nil
	}
	if n > 1e11 {
		return time.Time{}, &InputError{Source: source, Field: field, Msg: fmt.Sprintf("%s is not a Unix time in seconds", quote(s))}
	}
	return time.Unix(n, 0).UTC(), nil
}

// FromNagios reads the notification Nagios Core hands its notification
// command: the NAGIOS_* environment macros when enable_environment_macros=1
// (NAGIOS_NOTIFICATIONTYPE is set), else the positional arguments
//
//	NOTIFICATIONTYPE HOSTNAME SERVICEDESC SERVICESTATE PROBLEMID [OUTPUT]
//
// where an empty SERVICEDESC makes it a host notification (SERVICESTATE then
// holds the HOSTSTATE, PROBLEMID the HOSTPROBLEMID). It returns one alert,
// an *Ignored for ACKNOWLEDGEMENT, FLAPPING*, DOWNTIME* and CUSTOM, or an
// *InputError naming the macro or argument that is wrong.
//
// With the positional arguments Nagios passes the current problem id, which
// is 0 on a recovery: the recovery then has no Group, and is still found by
// its Key. The environment gives LAST*PROBLEMID, times and long output.
func FromNagios(getenv func(string) string, args []string) ([]Alert, error) {
	var (
		n   notification
		err error
	)
	if macro(getenv("NAGIOS_NOTIFICATIONTYPE")) != "" {
		n, err = nagiosEnv(getenv)
	} else {
		n, err = nagiosArgs(args)
	}
	if err != nil {
		return nil, err
	}
	a, err := n.alert()
	if err != nil {
		return nil, err
	}
	return finish(SourceNagios, []Alert{a})
}

func nagiosEnv(getenv func(string) string) (notification, error) {
	env := func(name string) string { return macro(getenv("NAGIOS_" + name)) }
	n := notification{source: SourceNagios, field: func(m string) string { return "NAGIOS_" + m },
		Type: env("NOTIFICATIONTYPE"), Host: env("HOSTNAME"), Service: env("SERVICEDESC")}
	obj := "HOST"
	if n.Service != "" {
		obj = "SERVICE"
	}
	n.State, n.LastState = env(obj+"STATE"), env("LAST"+obj+"STATE")
	n.ProblemID, n.LastProblemID = env(obj+"PROBLEMID"), env("LAST"+obj+"PROBLEMID")
	n.Output, n.LongOutput = env(obj+"OUTPUT"), env("LONG"+obj+"OUTPUT")
	var err error
	if n.Changed, err = unixTime(SourceNagios, "NAGIOS_LAST"+obj+"STATECHANGE", env("LAST"+obj+"STATECHANGE"), false); err != nil {
		return n, err
	}
	if n.At, err = unixTime(SourceNagios, "NAGIOS_TIMET", env("TIMET"), false); err != nil {
		return n, err
	}
	n.Labels = map[string]string{"address": env("HOSTADDRESS"), "hostgroups": env("HOSTGROUPNAMES")}
	if obj == "SERVICE" {
		n.Labels["servicegroups"] = env("SERVICEGROUPNAMES")
	}
	return n, nil
}

var nagiosArgNames = []string{"NOTIFICATIONTYPE", "HOSTNAME", "SERVICEDESC", "SERVICESTATE", "PROBLEMID", "OUTPUT"}

const nagiosUsage = `pass "$NOTIFICATIONTYPE$" "$HOSTNAME$" "$SERVICEDESC$" "$SERVICESTATE$" "$SERVICEPROBLEMID$" ["$SERVICEOUTPUT$"], or set enable_environment_macros=1 in nagios.cfg`

func nagiosArgs(args []string) (notification, error) {
	field := func(m string) string {
		for i, name := range nagiosArgNames {
			if m == name || (name == "SERVICESTATE" && m == "HOSTSTATE") {
				return fmt.Sprintf("argument %d (%s)", i+1, m)
			}
		}
		return "argument " + m
	}
	n := notification{source: SourceNagios, field: field}
	switch {
	case len(args) == 0:
		return n, &InputError{Source: SourceNagios, Field: "NAGIOS_NOTIFICATIONTYPE",
			Msg: "no notification: neither environment macros nor arguments; " + nagiosUsage}
	case len(args) < 5:
		return n, &InputError{Source: SourceNagios, Field: "arguments",
			Msg: fmt.Sprintf("%d arguments, want 5 or 6; %s", len(args), nagiosUsage)}
	case len(args) > 6:
		return n, &InputError{Source: SourceNagios, Field: "arguments",
			Msg: fmt.Sprintf("%d arguments, want 5 or 6 (quote every macro in the command_line); %s", len(args), nagiosUsage)}
	}
	get := func(i int) string {
		if i < len(args) {
			return macro(args[i])
		}
		return ""
	}
	n.Type, n.Host, n.Service, n.State = get(0), get(1), get(2), get(3)
	n.ProblemID, n.LastProblemID, n.Output = get(4), get(4), get(5)
	return n, nil
}
