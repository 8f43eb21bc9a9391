// Command scale measures incident on a runbook with years of history: it
// generates N resolved incidents of U updates each through the store
// (internal/benchdata), builds the binary as releases are built
// (CGO_ENABLED=0) and a hello-world Go binary beside it, then times, round
// after round so that both see the same machine, a hello-world start,
// `incident version`, `status`, `status --nagios` and `list --all`, and
// prints each median with its spread and as a ratio to hello-world's. Then
// it times one `open` and a few `update`s to the static page.
//
//	go run ./bench/scale                  # 2000 incidents x 10 updates, 41 rounds
//	go run ./bench/scale -n 200 -runs 11  # quicker
//
// The site build against Hugo is bench/site (bash bench/site.sh).
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
	"time"

	"github.com/incident-cli/incident/internal/benchdata"
	"github.com/incident-cli/incident/runbook"
)

const hello = `package main

import "fmt"

func main() { fmt.Println("hello, world") }
`

func main() {
	n := flag.Int("n", 2000, "resolved incidents to generate")
	updates := flag.Int("updates", 10, "updates per incident")
	runs := flag.Int("runs", 41, "rounds (the median is reported)")
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
	must(os.MkdirAll(dir, 0o755))
	bin, helloBin := filepath.Join(dir, "incident"), filepath.Join(dir, "hello")
	must(os.WriteFile(filepath.Join(dir, "hello.go"), []byte(hello), 0o644))
	for _, b := range [][]string{{"-o", bin, "./cmd/incident"}, {"-o", helloBin, filepath.Join(dir, "hello.go")}} {
		cmd := exec.Command("go", append([]string{"build", "-trimpath"}, b...)...)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			log.Fatalf("build %v: %v\n%s", b, err, out)
		}
	}
	rbDir := filepath.Join(dir, "rb")
	if _, err := os.Stat(filepath.Join(rbDir, runbook.ConfigFile)); err != nil {
		rb, err := benchdata.Runbook(rbDir, filepath.Join(dir, "gen-state"), nil)
		if err != nil {
			log.Fatal(err)
		}
		start := time.Now()
		if err := benchdata.Generate(rb, *n, *updates); err != nil {
			log.Fatal(err)
		}
		fmt.Printf("generated %d incidents x %d updates (%d event files) in %s\n", *n, *updates, *n*(1+2**updates), time.Since(start).Round(time.Millisecond))
	}
	env := append(os.Environ(), "INCIDENT_RUNBOOK="+rbDir, "XDG_STATE_HOME="+filepath.Join(dir, "state"))
	var last []byte
	run := func(name string, args ...string) time.Duration {
		cmd := exec.Command(name, args...)
		cmd.Env = env
		start := time.Now()
		out, err := cmd.Output()
		d := time.Since(start)
		last = out
		if err != nil && cmd.ProcessState.ExitCode() != 4 {
			log.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
		return d
	}
	d := run(bin, "status")
	fmt.Printf("%-22s %9s (reads every incident once and writes the summary cache)\n", "status, first run", d.Round(10*time.Microsecond))
	time.Sleep(2100 * time.Millisecond) // the caches trust only folders older than two seconds
	run(bin, "status")

	cases := []struct {
		name string
		bin  string
		args []string
	}{
		{"hello-world", helloBin, nil},
		{"version", bin, []string{"version"}},
		{"status", bin, []string{"status"}},
		{"status --nagios", bin, []string{"status", "--nagios"}},
		{"list --all", bin, []string{"list", "--all"}},
	}
	times := make([][]time.Duration, len(cases))
	load0 := loadavg()
	for range *runs {
		for i, c := range cases {
			times[i] = append(times[i], run(c.bin, c.args...))
		}
	}
	fmt.Printf("load average before %s, after %s (2 cores; other work on the machine shows in the spread)\n", load0, loadavg())
	base := median(times[0])
	for i, c := range cases {
		s := sorted(times[i])
		fmt.Printf("%-22s median %9s  min %9s  max %9s  = %5.2f x hello-world\n", c.name, median(s).Round(10*time.Microsecond),
			s[0].Round(10*time.Microsecond), s[len(s)-1].Round(10*time.Microsecond), float64(median(s))/float64(base))
	}

	d = run(bin, "open", "--title", "IMAP/POP login failures", "--service", "imap", "--message", "We are investigating.", "--yes")
	fmt.Printf("%-22s %9s\n", "open (first update)", d.Round(10*time.Microsecond))
	id := strings.TrimSuffix(filepath.Base(strings.TrimSpace(string(last))), ".html")
	var ups []time.Duration
	for i := range 5 {
		ups = append(ups, run(bin, "update", id, "--status", "identified", "--message", fmt.Sprintf("Still on it (%d).", i), "--yes"))
	}
	fmt.Printf("%-22s median %9s (static page: the page, index, feed and status.json)\n", "update", median(ups).Round(10*time.Microsecond))
}

func sorted(ds []time.Duration) []time.Duration {
	out := append([]time.Duration(nil), ds...)
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func median(ds []time.Duration) time.Duration { return sorted(ds)[len(ds)/2] }

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
