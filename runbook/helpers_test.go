package runbook

import (
	"time"

	"github.com/incident-cli/incident/publishers"
)

func receipt(id string) *publishers.Receipt {
	return &publishers.Receipt{ID: id, URL: "https://example.com/" + id, At: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)}
}
