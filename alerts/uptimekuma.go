package alerts

import (
	"fmt"
	"strconv"
	"strings"
)

// kumaPayload is what Uptime Kuma's Webhook notification posts with
// "application/json": {"heartbeat":{...},"monitor":{...},"msg":"..."}. Its
// test button sends heartbeat and monitor null.
type kumaPayload struct {
	Heartbeat *kumaHeartbeat `json:"heartbeat"`
	Monitor   *kumaMonitor   `json:"monitor"`
	Msg       string         `json:"msg"`
}

type kumaHeartbeat struct {
	MonitorID    loose  `json:"monitorID"`
	Status       *loose `json:"status"`
	Time         string `json:"time"` // "2006-01-02 15:04:05.000" in UTC
	Msg          string `json:"msg"`
	LastDownTime string `json:"lastDownTime"` // on UP, since 2.0
}

type kumaMonitor struct {
	ID          loose     `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	PathName    string    `json:"pathName"`
	URL         string    `json:"url"`
	Hostname    string    `json:"hostname"`
	Port        loose     `json:"port"`
	Type        string    `json:"type"`
	Tags        []kumaTag `json:"tags"`
}

type kumaTag struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

const kumaWhat = `Uptime Kuma's webhook body ({"heartbeat":{...},"monitor":{...},"msg":"..."}, content type application/json)`

// parseUptimeKuma reads one Uptime Kuma webhook notification. Key is the
// monitor id, Name the monitor's name; heartbeat status 0 (DOWN) fires and 1
// (UP) resolves, while 2 (PENDING), 3 (MAINTENANCE) and the test button's
// notification are Ignored. The monitor's tags become labels (tag name =
// value; a tag "severity" is the Severity), beside monitor_id, monitor_type,
// hostname, port, path (the monitor's group path) and state, which win over
// tags of the same name.
func parseUptimeKuma(body []byte) ([]Alert, error) {
	var p kumaPayload
	if err := decode(SourceUptimeKuma, body, &p, false, kumaWhat); err != nil {
		return nil, err
	}
	if p.Heartbeat == nil {
		if p.Monitor == nil && strings.TrimSpace(p.Msg) != "" {
			return nil, &Ignored{Source: SourceUptimeKuma, Reason: "Uptime Kuma test notification, without a heartbeat"}
		}
		return nil, &InputError{Source: SourceUptimeKuma, Field: "heartbeat", Msg: "missing; send " + kumaWhat}
	}
	hb := p.Heartbeat
	if hb.Status == nil {
		return nil, &InputError{Source: SourceUptimeKuma, Field: "heartbeat.status", Msg: "missing; Uptime Kuma sends 0 (DOWN) or 1 (UP)"}
	}
	state, ok := kumaStatus(hb.Status.value())
	if !ok {
		return nil, &InputError{Source: SourceUptimeKuma, Field: "heartbeat.status",
			Msg: fmt.Sprintf("%s; Uptime Kuma sends 0 DOWN, 1 UP, 2 PENDING or 3 MAINTENANCE", quote(hb.Status.value()))}
	}
	if state == StatePending || state == StateMaintenance {
		return nil, &Ignored{Source: SourceUptimeKuma, Reason: "Uptime Kuma " + strings.ToUpper(string(state)) + " heartbeat"}
	}
	var m kumaMonitor
	if p.Monitor != nil {
		m = *p.Monitor
	}
	id := firstOf(m.ID.value(), hb.MonitorID.value())
	if strings.TrimSpace(id) == "" {
		return nil, &InputError{Source: SourceUptimeKuma, Field: "monitor.id", Msg: "missing; the payload names its monitor in monitor.id or heartbeat.monitorID"}
	}
	a := Alert{Key: id, Firing: state == StateDown, Labels: map[string]string{}}
	a.Name = firstOf(m.Name, "monitor "+id)
	word := "up"
	if a.Firing {
		word = "down"
		a.StartsAt = looseTime(hb.Time)
	} else {
		a.EndsAt = looseTime(hb.Time)
		a.StartsAt = looseTime(hb.LastDownTime)
	}
	a.Summary = p.Msg
	if strings.TrimSpace(a.Summary) == "" {
		a.Summary = a.Name + " is " + word
		if strings.TrimSpace(hb.Msg) != "" {
			a.Summary += ": " + hb.Msg
		}
	}
	a.Description = hb.Msg
	a.URL = m.URL
	for _, t := range m.Tags {
		a.Labels[t.Name] = t.Value
	}
	a.Severity = a.Labels["severity"]
	a.Labels["monitor_id"] = id
	a.Labels["state"] = string(state)
	for name, v := range map[string]string{"monitor_type": m.Type, "hostname": m.Hostname, "port": m.Port.value(), "path": m.PathName} {
		if strings.TrimSpace(v) != "" && v != "0" {
			a.Labels[name] = v
		}
	}
	return []Alert{a}, nil
}

// kumaStatus reads a heartbeat status, 0-3.
func kumaStatus(s string) (State, bool) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return "", false
	}
	return KumaState(n)
}
