#!/usr/bin/env bash
# Paging crash test at scale: 500 trials of TestPagingCrash
# (cmd/incident/paging_crash_test.go). Each trial opens an incident from an
# alert, runs `incident tick` on the real binary against the fakes of a
# webhook bridge (which deduplicates on the key), Pushover and an SMTP
# server, SIGKILLs it at a random moment mid-escalation, and runs a tick to
# the end. Incidents climb three levels, repeat, are acknowledged and get
# their stand-downs and cancels. At the end every page the ladders called for
# is recorded as sent, and each service holds each page once (twice only
# where a kill struck between a page's "sending" record and its result).
# `go test ./...` runs 50.
#
#	bench/paging-crash.sh            # 500 trials
#	bench/paging-crash.sh 2000       # as many as you like
set -euo pipefail
cd "$(dirname "$0")/.."
trials=${1:-500}
exec go test ./cmd/incident -run '^TestPagingCrash$' -count=1 -v -timeout 60m -paging.trials="$trials"
