package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync"
	"testing"
)

// TestConcurrentProcessesUpdateOneIncident: several responders run
// `incident update` on one incident at the same moment, from several
// terminals. The lock serializes them: every update is recorded, numbered
// in order, and delivered once, in that order.
func TestConcurrentProcessesUpdateOneIncident(t *testing.T) {
	var mu sync.Mutex
	var received []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Update struct {
				Number  int
				Message string
			}
		}
		b, _ := io.ReadAll(r.Body)
		json.Unmarshal(b, &body)
		mu.Lock()
		received = append(received, fmt.Sprintf("%d:%s", body.Update.Number, body.Update.Message))
		mu.Unlock()
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	env := interruptRunbook(t, srv)
	out, err := incidentCmd(env, "open", "--title", "IMAP", "--message", "Investigating.", "--yes").Output()
	if err != nil {
		t.Fatal(err)
	}
	_ = out
	const n = 5
	var wg sync.WaitGroup
	cmds := make([]*exec.Cmd, n)
	for i := range n {
		cmds[i] = incidentCmd(env, "update", "--message", fmt.Sprintf("responder %d", i), "--yes")
		wg.Add(1)
		go func() {
			defer wg.Done()
			if out, err := cmds[i].CombinedOutput(); err != nil {
				t.Errorf("update %d: %v\n%s", i, err, out)
			}
		}()
	}
	wg.Wait()
	showOut, err := incidentCmd(env, "show", "--json").Output()
	if err != nil {
		t.Fatal(err)
	}
	var show struct {
		UpdateLog []struct {
			Number  int
			Message string
		} `json:"update_log"`
		Undelivered int
	}
	if err := json.Unmarshal(showOut, &show); err != nil {
		t.Fatal(err)
	}
	if len(show.UpdateLog) != n+1 || show.Undelivered != 0 {
		t.Fatalf("updates %d, undelivered %d", len(show.UpdateLog), show.Undelivered)
	}
	var recorded []string
	for i, u := range show.UpdateLog {
		if u.Number != i+1 {
			t.Errorf("update %d numbered %d", i, u.Number)
		}
		recorded = append(recorded, fmt.Sprintf("%d:%s", u.Number, u.Message))
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(received, "|") != strings.Join(recorded, "|") {
		t.Errorf("delivered in another order than recorded:\n got %q\nwant %q", received, recorded)
	}
}
