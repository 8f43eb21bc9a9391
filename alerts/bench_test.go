package alerts

import (
	"fmt"
	"strings"
	"testing"
)

// BenchmarkParseAlertmanager1000 parses a payload of MaxAlerts alerts (about
// 700 KiB, under the receiver's 1 MiB body limit): the most one request can
// ask of the parser.
func BenchmarkParseAlertmanager1000(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`{"version":"4","groupKey":"{}:{alertname=\"IMAPDown\"}","status":"firing","alerts":[`)
	for i := range MaxAlerts {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"status":"firing","labels":{"alertname":"IMAPDown","instance":"imap%d.example.net:993","job":"blackbox-imap","severity":"critical"},`+
			`"annotations":{"summary":"IMAP login fails on imap%d.example.net","description":"The blackbox probe could not log in over IMAPS for 2 minutes."},`+
			`"startsAt":"2026-12-01T21:01:09.828811292Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://prometheus.example.net:9090/graph?g0.expr=probe_success","fingerprint":"%016x"}`, i, i, i)
	}
	sb.WriteString(`]}`)
	body := []byte(sb.String())
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	for b.Loop() {
		if _, err := Parse(SourceAlertmanager, body); err != nil {
			b.Fatal(err)
		}
	}
}
