package webhook

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/incident-cli/incident/publishers"
	"github.com/incident-cli/incident/publishers/publisherstest"
)

// TestMaintenanceBody: a maintenance window's post carries its window; an
// incident's has none.
func TestMaintenanceBody(t *testing.T) {
	start := time.Date(2026, 12, 1, 22, 0, 0, 0, time.FixedZone("CET", 3600))
	p := publisherstest.Post(1, "text")
	var plain struct{ Incident map[string]any }
	b, _ := encode(p)
	if err := json.Unmarshal(b, &plain); err != nil || plain.Incident["maintenance"] != nil || plain.Incident["id"] == nil {
		t.Fatalf("an incident's body: %s (%v)", b, err)
	}
	p.Incident.Status = "scheduled"
	p.Incident.Maintenance = &publishers.Maintenance{Start: start, End: start.Add(time.Hour)}
	b, _ = encode(p)
	var doc struct {
		Incident struct {
			Status      string
			Maintenance struct{ Start, End string }
		}
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Incident.Status != "scheduled" || doc.Incident.Maintenance.Start != "2026-12-01T21:00:00Z" || doc.Incident.Maintenance.End != "2026-12-01T22:00:00Z" {
		t.Errorf("a window's body: %s", b)
	}
}
