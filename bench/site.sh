#!/usr/bin/env bash
# Site build against Hugo on the same 2,000 pages, cold and warm, with peak
# RSS (bench/site/main.go says what is measured). Installs Debian's hugo and
# time when they are missing (as root, with apt-get).
#
#	bash bench/site.sh                 # 2000 incidents x 10 updates, 5 rounds
#	bash bench/site.sh -n 500 -runs 3
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
command -v hugo >/dev/null || missing+=(hugo)
[ -x /usr/bin/time ] || missing+=(time)
if [ ${#missing[@]} -gt 0 ]; then
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
exec go run ./bench/site "$@"
