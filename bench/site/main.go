// Command site compares `incident site build` with Hugo on the same pages,
// in the same run: it generates N resolved incidents of U updates each
// (internal/benchdata), writes a Hugo site holding the same incidents (one
// Markdown page each with the text our status page shows, a list page, an
// RSS feed and a JSON summary, with the same inline-CSS layout), then
// times, round after round:
//
//   - incident cold: no manifest, no site (a fresh clone, a CI job);
//   - Hugo cold: no public/, no resources/;
//   - incident warm: the site and its manifest as the last build left them;
//   - Hugo warm: public/ as the last build left it (Hugo renders every page
//     again anyway).
//
// Each is the real binary under /usr/bin/time, which reports peak RSS. It
// prints medians with min and max, and the ratios to Hugo.
//
//	bash bench/site.sh               # installs Debian's hugo if missing; 2000 incidents
//	go run ./bench/site -n 200 -runs 3
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/incident-cli/incident/internal/benchdata"
	"github.com/incident-cli/incident/runbook"
)

func main() {
	n := flag.Int("n", 2000, "resolved incidents to generate")
	updates := flag.Int("updates", 10, "updates per incident")
	runs := flag.Int("runs", 5, "rounds (the median is reported)")
	keep := flag.String("dir", "", "generate into this directory and keep it (default: a temp dir)")
	hugo := flag.String("hugo", "hugo", "the hugo binary")
	flag.Parse()
	if _, err := exec.LookPath(*hugo); err != nil {
		log.Fatalf("%s not found: run bench/site.sh, which installs Debian's hugo", *hugo)
	}
	if _, err := exec.LookPath("/usr/bin/time"); err != nil {
		log.Fatal("/usr/bin/time not found (Debian package time): it measures peak RSS")
	}
	dir := *keep
	if dir == "" {
		d, err := os.MkdirTemp("", "incident-site-")
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
	rbDir, state := filepath.Join(dir, "rb"), filepath.Join(dir, "state")
	fresh := false
	if _, err := os.Stat(filepath.Join(rbDir, runbook.ConfigFile)); err != nil {
		fresh = true
	}
	rb, err := benchdata.Runbook(rbDir, filepath.Join(dir, "gen-state"), nil)
	if err != nil {
		log.Fatal(err)
	}
	if fresh {
		start := time.Now()
		if err := benchdata.Generate(rb, *n, *updates); err != nil {
			log.Fatal(err)
		}
		fmt.Printf("generated %d incidents x %d updates (%d event files) in %s\n", *n, *updates, *n*(1+2**updates), time.Since(start).Round(time.Millisecond))
	}
	site := filepath.Join(dir, "hugo")
	pages, err := writeHugoSite(rb, site)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("hugo site: %d incident pages; %s\n", pages, hugoVersion(*hugo))
	env := append(os.Environ(), "INCIDENT_RUNBOOK="+rbDir, "XDG_STATE_HOME="+state)
	ours := func(cold bool) sample {
		if cold {
			must(os.RemoveAll(state))
			must(os.RemoveAll(filepath.Join(rbDir, "site")))
		}
		return timed(env, "", bin, "site", "build")
	}
	theirs := func(cold bool) sample {
		if cold {
			must(os.RemoveAll(filepath.Join(site, "public")))
			must(os.RemoveAll(filepath.Join(site, "resources")))
		}
		return timed(os.Environ(), site, *hugo, "--quiet")
	}
	load0 := loadavg()
	res := map[string][]sample{}
	for range *runs {
		res["incident cold"] = append(res["incident cold"], ours(true))
		res["hugo cold"] = append(res["hugo cold"], theirs(true))
		res["incident warm"] = append(res["incident warm"], ours(false))
		res["hugo warm"] = append(res["hugo warm"], theirs(false))
	}
	fmt.Printf("load average before %s, after %s (2 cores; other work on the machine shows in the spread)\n", load0, loadavg())
	for _, k := range []string{"incident cold", "hugo cold", "incident warm", "hugo warm"} {
		s := res[k]
		fmt.Printf("%-14s median %8s  min %8s  max %8s  cpu %7s  peak RSS %6.1f MB\n", k, med(s, wall), lo(s, wall), hi(s, wall),
			med(s, cpu), float64(maxRSS(s))/1024)
	}
	ratio := func(a, b string) float64 {
		return float64(med(res[a], wall)) / float64(med(res[b], wall))
	}
	fmt.Printf("cold: incident / hugo = %.2f (wall, medians; target <= 1)\n", ratio("incident cold", "hugo cold"))
	fmt.Printf("warm: incident / hugo = %.2f (wall, medians; target <= 0.25)\n", ratio("incident warm", "hugo warm"))
	fmt.Printf("cpu:  cold %.2f, warm %.2f (user+sys, medians)\n",
		float64(med(res["incident cold"], cpu))/float64(med(res["hugo cold"], cpu)),
		float64(med(res["incident warm"], cpu))/float64(med(res["hugo warm"], cpu)))
}

// sample is one timed run.
type sample struct {
	wall, cpu time.Duration
	rss       int64 // KB
}

func wall(s sample) time.Duration { return s.wall }
func cpu(s sample) time.Duration  { return s.cpu }

// timed runs a command under /usr/bin/time, which reports the peak RSS of
// the command itself (the rusage of a child of this Go process would
// include the parent's RSS at fork).
func timed(env []string, wd, name string, args ...string) sample {
	tf, err := os.CreateTemp("", "time-")
	must(err)
	tf.Close()
	defer os.Remove(tf.Name())
	cmd := exec.Command("/usr/bin/time", append([]string{"-o", tf.Name(), "-f", "%M %U %S", name}, args...)...)
	cmd.Env, cmd.Dir = env, wd
	start := time.Now()
	out, err := cmd.CombinedOutput()
	d := time.Since(start)
	if err != nil {
		log.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	b, err := os.ReadFile(tf.Name())
	must(err)
	f := strings.Fields(string(b))
	if len(f) < 3 {
		log.Fatalf("/usr/bin/time said %q", b)
	}
	rss, _ := strconv.ParseInt(f[len(f)-3], 10, 64)
	u, _ := strconv.ParseFloat(f[len(f)-2], 64)
	s, _ := strconv.ParseFloat(f[len(f)-1], 64)
	return sample{wall: d, cpu: time.Duration((u + s) * float64(time.Second)), rss: rss}
}

func sorted(s []sample, f func(sample) time.Duration) []time.Duration {
	out := make([]time.Duration, len(s))
	for i := range s {
		out[i] = f(s[i])
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func med(s []sample, f func(sample) time.Duration) time.Duration {
	d := sorted(s, f)
	return d[len(d)/2].Round(time.Millisecond)
}

func lo(s []sample, f func(sample) time.Duration) time.Duration {
	return sorted(s, f)[0].Round(time.Millisecond)
}

func hi(s []sample, f func(sample) time.Duration) time.Duration {
	d := sorted(s, f)
	return d[len(d)-1].Round(time.Millisecond)
}

func maxRSS(s []sample) int64 {
	var m int64
	for _, x := range s {
		if x.rss > m {
			m = x.rss
		}
	}
	return m
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}

func hugoVersion(hugo string) string {
	out, err := exec.Command(hugo, "version").Output()
	if err != nil {
		return "hugo version unknown"
	}
	return strings.TrimSpace(string(out))
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
