package main

// `incident serve` behind a real Prometheus Alertmanager (Debian's
// prometheus-alertmanager, 0.25): an alert posted to Alertmanager's API is
// routed to the receiver, opens a triggered incident, and once the route's
// publish_after passes with nobody acknowledging, the automatic
// [Investigating] update is on the status page. Runs whenever
// /usr/bin/prometheus-alertmanager (or $INCIDENT_IT_ALERTMANAGER) exists and
// skips otherwise; with INCIDENT_IT_REQUIRE set (CI) a missing one fails it.

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/incident-cli/incident/runbook"
)

func alertmanagerBinary(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("INCIDENT_IT_ALERTMANAGER")
	if bin == "" {
		bin = "/usr/bin/prometheus-alertmanager"
	}
	if _, err := os.Stat(bin); err != nil {
		why := "no Alertmanager at " + bin + " (apt-get install prometheus-alertmanager)"
		if os.Getenv("INCIDENT_IT_REQUIRE") != "" {
			t.Fatal("INCIDENT_IT_REQUIRE is set but " + why)
		}
		t.Skip(why)
	}
	return bin
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// waitUntil polls cond every 20 ms for at most d.
func waitUntil(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

func TestRealAlertmanager(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	bin := alertmanagerBinary(t)
	work := t.TempDir()
	dir := filepath.Join(work, "rb")
	os.MkdirAll(dir, 0o755)
	const token = "am-receiver-token-0123456789abcdef"
	os.WriteFile(filepath.Join(work, "token"), []byte(token+"\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "incident.toml"), []byte(`organization = "Example Mail"
zones = ["Europe/Oslo", "UTC"]

[[service]]
id = "imap"
name = "IMAP/POP"

[alerts]
token = "env:INCIDENT_ALERT_TOKEN"

[[alerts.route]]
source = "alertmanager"
match = "IMAP*"
service = "imap"
severity = "critical"
title = "IMAP/POP connection problems"
publish_after = "10m"

[status_page]
type = "static"
`), 0o600)
	clock := filepath.Join(work, "clock")
	t0 := time.Now().UTC()
	os.WriteFile(clock, []byte(t0.Format(time.RFC3339Nano)), 0o644)
	env := []string{"INCIDENT_TEST_MAIN=1", "INCIDENT_RUNBOOK=" + dir, "HOME=" + work, "USER=alice", "TZ=UTC", "PATH=" + os.Getenv("PATH"),
		"XDG_STATE_HOME=" + filepath.Join(work, "state"), "INCIDENT_TEST_CLOCK=" + clock, "INCIDENT_ALERT_TOKEN=" + token}
	addrFile := filepath.Join(work, "addr")
	serve := exec.Command(os.Args[0], "serve", "--listen", "127.0.0.1:0", "--addr-file", addrFile, "--tick", "50ms")
	var serveLog bytes.Buffer
	serve.Env, serve.Stdout, serve.Stderr = env, &serveLog, &serveLog
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = serve.Process.Kill(); _ = serve.Wait() })
	var addr string
	if !waitUntil(10*time.Second, func() bool {
		b, err := os.ReadFile(addrFile)
		addr = strings.TrimSpace(string(b))
		return err == nil && addr != ""
	}) {
		t.Fatalf("incident serve did not start:\n%s", serveLog.String())
	}

	amPort := freePort(t)
	amURL := fmt.Sprintf("http://127.0.0.1:%d", amPort)
	os.WriteFile(filepath.Join(work, "am.yml"), []byte(fmt.Sprintf(`route:
  receiver: incident
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: incident
    webhook_configs:
      - url: http://%s/alerts/alertmanager
        send_resolved: true
        http_config:
          authorization:
            type: Bearer
            credentials_file: %s
`, addr, filepath.Join(work, "token"))), 0o600)
	am := exec.Command(bin, "--config.file="+filepath.Join(work, "am.yml"), "--storage.path="+filepath.Join(work, "am-data"),
		fmt.Sprintf("--web.listen-address=127.0.0.1:%d", amPort), "--cluster.listen-address=")
	var amLog bytes.Buffer
	am.Stdout, am.Stderr = &amLog, &amLog
	if err := am.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = am.Process.Kill(); _ = am.Wait() })
	if !waitUntil(20*time.Second, func() bool {
		resp, err := http.Get(amURL + "/-/ready")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == 200
	}) {
		t.Fatalf("Alertmanager did not become ready:\n%s", amLog.String())
	}

	post := func(body string) {
		t.Helper()
		resp, err := http.Post(amURL+"/api/v2/alerts", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("Alertmanager refused the alert: %s", resp.Status)
		}
	}
	store := &runbook.Store{Dir: filepath.Join(dir, "incidents")}
	var id string
	sent := time.Now()
	post(`[{"labels":{"alertname":"IMAPDown","instance":"imap1:993","service":"imap"},"annotations":{"summary":"IMAP on imap1 refuses logins"}}]`)
	if !waitUntil(20*time.Second, func() bool {
		ids, _ := store.IDs()
		if len(ids) == 1 {
			id = ids[0]
			return true
		}
		return false
	}) {
		t.Fatalf("no triggered incident:\nserve:\n%s\nalertmanager:\n%s", serveLog.String(), amLog.String())
	}
	recorded := time.Since(sent)
	inc, err := store.LoadFresh(id)
	if err != nil || inc.Status != runbook.Triggered || inc.Title != "IMAP/POP connection problems" || len(inc.Alerts) != 1 || !inc.Private() {
		t.Fatalf("triggered incident: %v %+v", err, inc)
	}
	if a := inc.Alerts[0]; a.Source != "alertmanager" || a.Name != "IMAPDown" || a.Summary != "IMAP on imap1 refuses logins" {
		t.Fatalf("alert = %+v", a)
	}
	// Nobody acknowledges: ten minutes later the daemon publishes.
	os.WriteFile(clock, []byte(t0.Add(11*time.Minute).Format(time.RFC3339Nano)), 0o644)
	moved := time.Now()
	page := filepath.Join(dir, "site", "index.html")
	if !waitUntil(20*time.Second, func() bool {
		b, _ := os.ReadFile(page)
		return bytes.Contains(b, []byte("IMAP/POP connection problems"))
	}) {
		t.Fatalf("no automatic update on the status page:\n%s", serveLog.String())
	}
	live := time.Since(moved)
	if inc, _ = store.LoadFresh(id); len(inc.PublicUpdates()) != 1 || inc.PublicUpdates()[0].Event.By != runbook.AutomaticAuthor {
		t.Fatalf("after publish_after: %+v", inc.PublicUpdates())
	}
	// The alert resolves in Alertmanager: the recovery is recorded.
	post(fmt.Sprintf(`[{"labels":{"alertname":"IMAPDown","instance":"imap1:993","service":"imap"},"annotations":{"summary":"IMAP on imap1 refuses logins"},"endsAt":%q}]`,
		time.Now().UTC().Add(-time.Second).Format(time.RFC3339)))
	if !waitUntil(20*time.Second, func() bool {
		inc, err := store.LoadFresh(id)
		return err == nil && len(inc.Alerts) == 1 && !inc.Alerts[0].Firing
	}) {
		t.Fatalf("the recovery did not arrive:\n%s", serveLog.String())
	}
	t.Logf("alert posted to Alertmanager -> triggered incident recorded: %v (Alertmanager's group_wait is 1s); clock past publish_after -> automatic update on the status page: %v",
		recorded.Round(time.Millisecond), live.Round(time.Millisecond))
	_ = serve.Process.Signal(syscall.SIGTERM)
	_ = serve.Wait()
	if strings.Contains(serveLog.String(), token) {
		t.Error("the token reached the log")
	}
}
