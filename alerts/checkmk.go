package alerts

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
)

// FromCheckmk reads the notification Checkmk hands a notification script in
// its NOTIFY_* environment: NOTIFY_WHAT (HOST or SERVICE), NOTIFY_HOSTNAME,
// NOTIFY_SERVICEDESC, NOTIFY_NOTIFICATIONTYPE, the states in long or short
// form (CRITICAL or CRIT, UNREACHABLE or UNREACH), the problem ids, outputs
// and times. It returns one alert, an *Ignored for ACKNOWLEDGEMENT,
// FLAPPING*, DOWNTIME*, CUSTOM and ALERTHANDLER, or an *InputError naming the
// variable that is wrong.
//
// URL is set when the rule gives a URL prefix: Checkmk's own
// PARAMETER_URL_PREFIX (_MANUAL, _AUTOMATIC), or an http(s) URL as the
// script's first parameter (NOTIFY_PARAMETER_1), such as
// https://monitor.example.com/mysite.
func FromCheckmk(getenv func(string) string) ([]Alert, error) {
	if macro(getenv("NOTIFY_NOTIFICATIONTYPE")) == "" && macro(getenv("NOTIFY_HOSTNAME")) == "" {
		return nil, &InputError{Source: SourceCheckmk, Field: "NOTIFY_NOTIFICATIONTYPE",
			Msg: "no notification in the environment; run incident as a Checkmk notification script (see the README)"}
	}
	get := func(name string) string { return macro(getenv("NOTIFY_" + name)) }
	a, err := checkmkAlert(get, func(v string) string { return "NOTIFY_" + v })
	if err != nil {
		return nil, err
	}
	return finish(SourceCheckmk, []Alert{a})
}

// FromCheckmkBulk reads a Checkmk bulk notification: what a script with
// "# Bulk: yes" gets on stdin when Checkmk calls it with --bulk. The input is
// the rule's parameters (PARAMETER_*=...), then one block per notification,
// each after an empty line, of NAME=VALUE lines without the NOTIFY_ prefix;
// a newline in a value arrives as \x01. The caller reads at most
// MaxBulkInput bytes.
//
// It returns the alerts of the problem and recovery notifications; the
// others in the bulk are left out, and a bulk of nothing else is Ignored.
// A block that cannot be read fails the whole bulk with an *InputError
// naming the block and line (Checkmk then shows the failure; exit 2).
func FromCheckmkBulk(stdin []byte) ([]Alert, error) {
	params, contexts, err := bulkContexts(stdin)
	if err != nil {
		return nil, err
	}
	if len(contexts) == 0 {
		return nil, &InputError{Source: SourceCheckmk, Field: "stdin",
			Msg: "no notifications: a bulk has the parameters, then an empty line before each notification's NAME=VALUE lines"}
	}
	if len(contexts) > MaxAlerts {
		return nil, tooMany(SourceCheckmk, len(contexts))
	}
	var (
		out     []Alert
		ignored []string
	)
	for i, ctx := range contexts {
		get := func(name string) string {
			if v, ok := ctx[name]; ok {
				return macro(v)
			}
			return macro(params[name])
		}
		field := func(v string) string { return fmt.Sprintf("notification %d: %s", i+1, v) }
		a, err := checkmkAlert(get, field)
		if ig := (*Ignored)(nil); errors.As(err, &ig) {
			ignored = append(ignored, ig.Reason)
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	if len(out) == 0 {
		return nil, &Ignored{Source: SourceCheckmk, Reason: "bulk of " + strings.Join(ignored, ", ")}
	}
	return finish(SourceCheckmk, out)
}

// bulkContexts splits a bulk notification's stdin into the parameters and
// the notification contexts.
func bulkContexts(stdin []byte) (map[string]string, []map[string]string, error) {
	params := map[string]string{}
	var (
		contexts []map[string]string
		cur      = params
	)
	for i, line := range bytes.Split(stdin, []byte("\n")) {
		line = bytes.TrimRight(line, "\r")
		if len(bytes.TrimSpace(line)) == 0 {
			if len(contexts) == 0 || len(contexts[len(contexts)-1]) > 0 {
				if len(contexts) > MaxAlerts {
					return nil, nil, tooMany(SourceCheckmk, len(contexts))
				}
				contexts = append(contexts, map[string]string{})
			}
			cur = contexts[len(contexts)-1]
			continue
		}
		name, value, ok := bytes.Cut(line, []byte("="))
		if !ok || len(name) == 0 {
			return nil, nil, &InputError{Source: SourceCheckmk, Field: fmt.Sprintf("stdin line %d", i+1),
				Msg: fmt.Sprintf("%s is not NAME=VALUE", quote(string(line)))}
		}
		cur[string(name)] = strings.ReplaceAll(string(value), "\x01", "\n")
	}
	if n := len(contexts); n > 0 && len(contexts[n-1]) == 0 {
		contexts = contexts[:n-1]
	}
	return params, contexts, nil
}

// checkmkAlert maps one Checkmk notification context; get reads a variable
// by its name without NOTIFY_, field names it in an error.
func checkmkAlert(get func(string) string, field func(string) string) (Alert, error) {
	n := notification{source: SourceCheckmk, field: field,
		Type: get("NOTIFICATIONTYPE"), Host: get("HOSTNAME"), Service: get("SERVICEDESC")}
	switch what := strings.ToUpper(strings.TrimSpace(get("WHAT"))); what {
	case "SERVICE":
		if strings.TrimSpace(n.Service) == "" {
			return Alert{}, &InputError{Source: SourceCheckmk, Field: field("SERVICEDESC"), Msg: "missing in a SERVICE notification"}
		}
	case "HOST":
		n.Service = ""
	case "":
	default:
		return Alert{}, &InputError{Source: SourceCheckmk, Field: field("WHAT"), Msg: fmt.Sprintf("%s; want HOST or SERVICE", quote(what))}
	}
	obj := "HOST"
	if n.Service != "" {
		obj = "SERVICE"
	}
	n.State = firstOf(get(obj+"STATE"), get(obj+"SHORTSTATE"))
	n.LastState = firstOf(get("LAST"+obj+"STATE"), get("LAST"+obj+"SHORTSTATE"))
	n.ProblemID, n.LastProblemID = get(obj+"PROBLEMID"), get("LAST"+obj+"PROBLEMID")
	n.Output, n.LongOutput = get(obj+"OUTPUT"), get("LONG"+obj+"OUTPUT")
	var err error
	if n.Changed, err = unixTime(SourceCheckmk, field("LAST"+obj+"STATECHANGE"), get("LAST"+obj+"STATECHANGE"), false); err != nil {
		return Alert{}, err
	}
	if n.At, err = unixTime(SourceCheckmk, field("MICROTIME"), get("MICROTIME"), true); err != nil {
		return Alert{}, err
	}
	n.URL = checkmkURL(get, obj+"URL")
	n.Labels = map[string]string{"address": get("HOSTADDRESS"), "site": get("OMD_SITE"), "hostgroups": get("HOSTGROUPNAMES")}
	if obj == "SERVICE" {
		n.Labels["servicegroups"] = get("SERVICEGROUPNAMES")
	}
	return n.alert()
}

// checkmkURL builds the link to the host or service view the way Checkmk's
// own notification plugins do: the URL prefix without its /check_mk part,
// then HOSTURL or SERVICEURL (which start with /check_mk/).
func checkmkURL(get func(string) string, variable string) string {
	view := strings.TrimSpace(get(variable))
	if view == "" {
		return ""
	}
	if cleanURL(view) != "" {
		return view
	}
	prefix := firstOf(get("PARAMETER_URL_PREFIX"), get("PARAMETER_URL_PREFIX_MANUAL"))
	if scheme := get("PARAMETER_URL_PREFIX_AUTOMATIC"); prefix == "" && (scheme == "http" || scheme == "https") {
		prefix = scheme + "://" + get("MONITORING_HOST") + "/" + get("OMD_SITE")
	}
	if p := strings.TrimSpace(get("PARAMETER_1")); prefix == "" && cleanURL(p) != "" {
		prefix = p
	}
	if prefix == "" || !strings.HasPrefix(view, "/") {
		return ""
	}
	if i := strings.Index(prefix, "/check_mk"); i >= 0 {
		rest := strings.TrimPrefix(prefix[i+len("/check_mk"):], "/")
		prefix = prefix[:i] + rest
	}
	return strings.TrimRight(prefix, "/") + view
}
