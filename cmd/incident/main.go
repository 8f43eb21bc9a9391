// Command incident runs outages well: it tells customers first, keeps the
// updates coming in every venue, and writes the Reason For Outage from what
// was recorded. See the README for a tour.
package main

import (
	"os"
	_ "time/tzdata" // zones work on machines without a zoneinfo database

	"github.com/incident-cli/incident/internal/termquiet"
)

// Set by the release build: -ldflags "-X main.version=... -X main.commit=... -X main.date=...".
var version, commit, date string

func main() {
	termquiet.Restore() // see there: no terminal query at start
	os.Exit(run(os.Args[1:], newSystem()))
}
