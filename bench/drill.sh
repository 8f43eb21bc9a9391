#!/usr/bin/env bash
# The paging drill in real time (cmd/incident/ngircd_test.go TestDrill):
# `incident serve` takes an Alertmanager alert over HTTP; level 1 pages IRC
# (a real ngircd, Debian's package, read back by a client in #ops) and email
# (an SMTP server) at once; level 2 pages Pushover (the fake, urgent) after
# AFTER; `incident ack` is typed as soon as the Pushover page arrives, and
# the drill checks that the emergency is cancelled, the channel is told, and
# level 3 (at 3 x AFTER) never pages. Each run prints the time from the alert
# to each page.
#
#	bench/drill.sh                 # 3 runs, serve --tick 1s, level 2 after 10s
#	bench/drill.sh 5 15s 10s       # 5 runs, the default --tick of incident serve
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
tick=${2:-1s}
after=${3:-10s}
for i in $(seq "$runs"); do
	go test ./cmd/incident -run '^TestDrill$' -count=1 -v -drill -drill.tick="$tick" -drill.after="$after" |
		grep -o 'drill (serve.*'
done
