#!/usr/bin/env bash
# Crash test at scale: 500 trials of TestCrashThenRetry (cmd/incident/crash_test.go).
# Each trial runs the next command of an incident's life (open, update,
# update, close, rfo) on the real binary against fakes of WordPress,
# Discourse, Mastodon and a webhook receiver, SIGKILLs it at a random moment,
# runs `incident retry`, and requires every update on every service exactly
# once, nothing undelivered, and a record that loads. `go test ./...` runs 50.
# Then TestCrashBetweenSendAndReceipt: on each service in turn the fake stores
# the first attempt's post and holds the answer, the binary is killed right
# then, and retry must not post it again.
#
# With "serve", the trials kill `incident serve` around the automatic first
# update of an alert nobody acknowledged instead (TestKilledServeAutoPostsOnce),
# restart it, and require that update on every service exactly once.
#
#	bench/crash.sh            # 500 trials
#	bench/crash.sh 2000       # as many as you like
#	bench/crash.sh 500 serve  # the daemon
set -euo pipefail
cd "$(dirname "$0")/.."
trials=${1:-500}
test='(TestCrashThenRetry|TestCrashBetweenSendAndReceipt)'
if [ "${2:-}" = serve ]; then test=TestKilledServeAutoPostsOnce; fi
exec go test ./cmd/incident -run "^$test\$" -count=1 -v -timeout 60m -crash.trials="$trials"
