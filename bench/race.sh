#!/usr/bin/env bash
# The retry race at scale: two laptops sharing a runbook through git (a bare
# remote, real git) retry the same failed delivery at once, N times
# (runbook TestRetryRace), and a slow push that claimed first races a fast
# one that claimed later (TestSlowPushLosesTheRace). Every run must end with
# the forum called exactly once. Prints the count of failed runs (target 0).
#
#	bench/race.sh            # 1000 runs of each
#	bench/race.sh 200
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-1000}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
start=$(date +%s)
go test ./runbook -run '^(TestRetryRace|TestSlowPushLosesTheRace)$' -count="$runs" -v -timeout 180m >"$log" 2>&1 || true
passed=$(grep -c -- '--- PASS' "$log" || true)
failed=$(grep -c -- '--- FAIL' "$log" || true)
echo "runs: $((passed + failed)) (TestRetryRace and TestSlowPushLosesTheRace, $runs each), failed: $failed, in $(($(date +%s) - start)) s"
if [ "$failed" -gt 0 ]; then
	grep -A5 -- '--- FAIL' "$log" | head -40
	exit 1
fi
