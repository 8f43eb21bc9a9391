// Command scale measures incident on a runbook with years of history: it
// generates N resolved incidents of U updates each through the store (as the
// tool writes them), then times the real binary on it:
//
//	go run ./bench/scale                  # 2000 incidents x 10 updates
//	go run ./bench/scale -n 200 -runs 5   # quicker
//
// It reports the median wall time of `incident status`, `list --all`,
// `site build` (with peak memory) and one `update` publish.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/incident-cli/incident/publishers"
	"github.com/incident-cli/incident/publishers/static"
	"github.com/incident-cli/incident/runbook"
)

func main() {
	n := flag.Int("n", 2000, "resolved incidents to generate")
	updates := flag.Int("updates", 10, "updates per incident")
	runs := flag.Int("runs", 11, "timed runs per command (the median is reported)")
	keep := flag.String("dir", "", "generate into this directory and keep it (default: a temp dir)")
	flag.Parse()

	dir := *keep
	if dir == "" {
		d, err := os.MkdirTemp("", "incident-scale-")
		if err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(d)
		dir = d
	}
	bin := filepath.Join(dir, "incident")
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/incident").CombinedOutput(); err != nil {
		log.Fatalf("build: %v\n%s", err, out)
	}
	rb := filepath.Join(dir, "rb")
	if _, err := os.Stat(filepath.Join(rb, runbook.ConfigFile)); err != nil {
		if _, err := runbook.Init(rb, false); err != nil {
			log.Fatal(err)
		}
		start := time.Now()
		if err := generate(rb, *n, *updates); err != nil {
			log.Fatal(err)
		}
		fmt.Printf("generated %d incidents x %d updates (%d event files) in %s\n", *n, *updates, *n*(1+2**updates), time.Since(start).Round(time.Millisecond))
	}
	env := append(os.Environ(), "INCIDENT_RUNBOOK="+rb, "XDG_STATE_HOME="+filepath.Join(dir, "state"))
	var last []byte
	run := func(args ...string) (time.Duration, int64) {
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		start := time.Now()
		out, err := cmd.Output()
		last = out
		d := time.Since(start)
		if err != nil && cmd.ProcessState.ExitCode() != 4 {
			log.Fatalf("%v: %v\n%s", args, err, out)
		}
		ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
		return d, ru.Maxrss
	}
	measure := func(name string, args ...string) {
		var ds []time.Duration
		var rss int64
		for range *runs {
			d, m := run(args...)
			ds = append(ds, d)
			rss = max(rss, m)
		}
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		fmt.Printf("%-34s median %8s  min %8s  max %8s  peak RSS %5.1f MB\n", name, ds[len(ds)/2].Round(100*time.Microsecond),
			ds[0].Round(100*time.Microsecond), ds[len(ds)-1].Round(100*time.Microsecond), float64(rss)/1024)
	}
	d, _ := run("status")
	fmt.Printf("%-34s %8s (builds the summary cache)\n", "status, first run", d.Round(100*time.Microsecond))
	measure("status", "status")
	measure("status --nagios", "status", "--nagios")
	measure("list --all", "list", "--all")
	measure("site build", "site", "build")
	d, _ = run("open", "--title", "IMAP/POP login failures", "--service", "imap", "--message", "We are investigating.", "--yes")
	fmt.Printf("%-34s %8s\n", "open (first update)", d.Round(100*time.Microsecond))
	id := strings.TrimSuffix(filepath.Base(strings.TrimSpace(string(last))), ".html")
	measure("update (one publish)", "update", id, "--status", "identified", "--message", "Still on it.", "--yes")
	d, _ = run("close", id, "--message", "Fixed.", "--yes")
	fmt.Printf("%-34s %8s\n", "close", d.Round(100*time.Microsecond))
}

// generate writes n resolved incidents through the store, as the tool does.
func generate(dir string, n, updates int) error {
	loc, err := runbook.Find(dir, os.Getenv, dir)
	if err != nil {
		return err
	}
	rb, err := runbook.Open(loc, runbook.Options{})
	if err != nil {
		return err
	}
	base := time.Date(2020, 1, 1, 8, 0, 0, 0, time.UTC)
	work := make(chan int)
	var wg sync.WaitGroup
	errs := make(chan error, 1)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				if err := one(rb, i, updates, base.Add(time.Duration(i)*19*time.Hour)); err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		}()
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
	}
	_, err = rb.BuildSite(mustStatic(rb))
	return err
}

func one(rb *runbook.Runbook, i, updates int, at time.Time) error {
	title := fmt.Sprintf("IMAP/POP login failures %d", i)
	acc := 100 + i
	id, unlock, err := rb.Store.Create(rb.Store.NewID(title, at), &runbook.Event{Kind: runbook.KindOpened, At: at, By: "alice", Title: title,
		Services: []string{"imap"}, Severity: "major", Accounts: &acc})
	if err != nil {
		return err
	}
	unlock()
	statuses := []string{runbook.Investigating, runbook.Identified, runbook.Monitoring}
	for u := range updates {
		st := statuses[min(u, 2)]
		if u == updates-1 {
			st = runbook.Resolved
		}
		t := at.Add(time.Duration(u) * 25 * time.Minute)
		upd := runbook.Event{Kind: runbook.KindUpdate, At: t, By: "alice", Status: st,
			Message:  fmt.Sprintf("Update %d: we are working on the IMAP servers; logins may fail for some customers.", u+1),
			Channels: []string{rb.StatusPage.Name}}
		if err := rb.Store.Append(id, &upd); err != nil {
			return err
		}
		url := mustStatic(rb).URLFor(id, publishers.KindUpdate)
		d := runbook.Event{Kind: runbook.KindDelivered, At: t.Add(time.Second), Update: upd.ID, Channel: rb.StatusPage.Name,
			Receipt: &publishers.Receipt{ID: "incidents/" + id + ".html", URL: url, At: t.Add(time.Second)}}
		if err := rb.Store.Append(id, &d); err != nil {
			return err
		}
	}
	return nil
}

func mustStatic(rb *runbook.Runbook) *static.Publisher {
	s, ok := rb.StatusPage.Pub.(*static.Publisher)
	if !ok {
		log.Fatal("the scale runbook must use the static status page")
	}
	return s
}
