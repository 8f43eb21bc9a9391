package alerts

import "fmt"

const grafanaWhat = `a Grafana webhook payload ({"receiver":...,"orgId":1,"groupKey":...,"alerts":[...]})`

// parseGrafana reads a Grafana alerting webhook payload: Alertmanager's
// envelope plus orgId (Grafana 9 and later; the deprecated title, state and
// message fields are not read). Key is each alert's fingerprint, Group
// "orgId/groupKey". Grafana's "Test" button sends a fixed alert (alertname
// TestAlert, instance Grafana): that payload is Ignored, so that pressing it
// never opens an incident that could publish itself.
func parseGrafana(body []byte) ([]Alert, error) {
	var p amPayload
	if err := decode(SourceGrafana, body, &p, false, grafanaWhat); err != nil {
		return nil, err
	}
	if p.Alerts != nil && len(*p.Alerts) > 0 && grafanaTest(*p.Alerts) {
		return nil, &Ignored{Source: SourceGrafana, Reason: "Grafana test notification: alertname TestAlert, instance Grafana"}
	}
	group := ""
	if p.GroupKey != "" {
		org := int64(0)
		if p.OrgID != nil {
			org = *p.OrgID
		}
		group = fmt.Sprintf("%d/%s", org, p.GroupKey)
	}
	return amAlerts(SourceGrafana, p, group)
}

// grafanaTest reports whether every alert is Grafana's test alert.
func grafanaTest(as []amAlert) bool {
	for _, a := range as {
		if a.Labels["alertname"] != "TestAlert" || a.Labels["instance"] != "Grafana" {
			return false
		}
	}
	return true
}
