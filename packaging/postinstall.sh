#!/bin/sh
# The system user `incident serve` runs as (incident-serve.service); its home
# holds the runbook and state. The service is not enabled: configure it first.
set -e
if ! getent passwd incident >/dev/null 2>&1; then
	if command -v useradd >/dev/null 2>&1; then
		useradd --system --home-dir /var/lib/incident --shell /usr/sbin/nologin --user-group incident || true
	fi
fi
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
	systemctl daemon-reload >/dev/null 2>&1 || true
fi
exit 0
