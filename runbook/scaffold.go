package runbook

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/incident-cli/incident/checklists"
	"github.com/incident-cli/incident/templates"
)

// scaffoldConfig is the incident.toml that init writes: every option, commented.
const scaffoldConfig = `# incident.toml: the runbook of ` + "`incident`" + `. Every option is shown; the
# commented ones hold their defaults or an example. Secrets are never written
# here: a secret field holds a reference, env:NAME, file:PATH or cmd:COMMAND.

# Who you are, as customers know you.
organization = "Example Mail"

# Times are shown in these zones, the first is primary: "12:00 CEST (10:00 UTC)".
zones = ["Europe/Oslo", "UTC"]

# From the start of a problem to the first public update.
first_update_within = "15m"

# An update is due this long after the last one.
cadence = "30m"

# An open incident whose last public update is older than this, whatever its
# status, is stale: ` + "`incident status`" + ` says "monitoring for 3 days: close it or
# update it" (--nagios: WARNING), and ` + "`incident list`" + ` marks it.
monitoring_max = "24h"

# Name recorded for each step (default: $USER).
# responder = "alice"

# The services customers know, by id. With none listed any name is accepted.
[[service]]
id = "imap"
name = "IMAP/POP"
# since = 2024-03-01   # the status page's bars say "No data" before this day (default: its first incident)

[[service]]
id = "smtp"
name = "Outgoing mail (SMTP)"

[[service]]
id = "webmail"
name = "Webmail"

# Share this runbook with your colleagues through git: pull before reading,
# commit and push the incident records after writing. Publishing never waits
# for git: when the remote cannot be reached, the command says sync is
# pending and the next command (or ` + "`incident sync`" + `) pushes.
# [sync]
# git = true
# timeout = "20s"      # per git call
# pushes = 3           # attempts at a rejected push, each after a rebase

# Scheduled maintenance (` + "`incident maintenance schedule`" + `): the reminder goes out
# this long before a window starts ("off": no reminder).
# [maintenance]
# remind_before = "60m"

# Exactly one status page: where the canonical update lives.
[status_page]
type = "static"        # static | wordpress | statuspage | hugo
name = "status page"
dir = "site"           # static: where the HTML, feed.atom and status.json go
# base_url = "https://status.example.com"   # public URL, for links
# git_push = false     # commit and push the site after each publish
# refresh = "5m"       # browsers reload the index and incident pages this often

# WordPress instead:
# type = "wordpress"
# url = "https://status.example.com"
# username = "status-bot"
# password = "env:WP_APP_PASSWORD"          # an application password
# categories = [3]
# tags = []
# status = "publish"

# Any number of link channels: each gets a short text linking to the status page.
# [[channel]]
# name = "community"
# type = "discourse"
# url = "https://community.example.com"
# username = "status-bot"
# api_key = "env:DISCOURSE_API_KEY"
# category = 7
# template = "forum.md.tmpl"

# [[channel]]
# name = "mastodon"
# type = "mastodon"
# url = "https://mastodon.social"
# access_token = "cmd:pass show mastodon/token"
# visibility = "public"

# [[channel]]
# name = "x"
# type = "twitter"
# consumer_key = "env:X_CONSUMER_KEY"
# consumer_secret = "env:X_CONSUMER_SECRET"
# access_token = "env:X_ACCESS_TOKEN"
# access_token_secret = "env:X_ACCESS_TOKEN_SECRET"

# [[channel]]
# name = "bluesky"
# type = "bluesky"
# identifier = "status.example.com"
# app_password = "env:BLUESKY_APP_PASSWORD"

# [[channel]]
# name = "chat"
# type = "webhook"
# url = "https://chat.example.com/hooks/abc"
# headers = { Authorization = "env:CHAT_TOKEN" }
`

// scaffoldGitignore keeps machine-local files out of git.
const scaffoldGitignore = `# machine-local: locks, temp files and folders being made
incidents/.*
incidents/*/.lock
incidents/*/.tmp-*
`

// Init scaffolds a runbook in dir: incident.toml, templates/ and checklists/
// holding copies of the defaults, incidents/. It refuses to overwrite any
// existing file unless force, and then writes nothing at all. It returns the
// files written.
func Init(dir string, force bool) ([]string, error) {
	return InitWith(dir, force, false)
}

// InitWith is Init; with git it also turns on [sync] git = true, makes the
// directory a git repository if it is not inside one, and commits the
// scaffold.
func InitWith(dir string, force, git bool) ([]string, error) {
	config := scaffoldConfig
	if git {
		config = strings.Replace(config, "# [sync]\n# git = true\n", "[sync]\ngit = true\n", 1)
	}
	files := map[string][]byte{
		ConfigFile:   []byte(config),
		".gitignore": []byte(scaffoldGitignore),
	}
	add := func(sub string, fsys fs.FS) error {
		return fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := fs.ReadFile(fsys, p)
			files[filepath.Join(sub, p)] = b
			return err
		})
	}
	if err := add("templates", templates.Defaults()); err != nil {
		return nil, err
	}
	if err := add("checklists", checklists.Defaults()); err != nil {
		return nil, err
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	if !force {
		var exist []string
		for _, n := range names {
			if _, err := os.Stat(filepath.Join(dir, n)); err == nil {
				exist = append(exist, filepath.Join(dir, n))
			}
		}
		if len(exist) > 0 {
			return nil, fmt.Errorf("%s already exists (and %d more); nothing was written: use --force to overwrite", exist[0], len(exist)-1)
		}
	}
	for _, sub := range []string{"templates", "checklists", "incidents"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return nil, err
		}
	}
	var written []string
	for _, n := range names {
		p := filepath.Join(dir, n)
		if err := os.WriteFile(p, files[n], 0o644); err != nil {
			return written, err
		}
		written = append(written, p)
	}
	if git {
		if err := initGit(dir); err != nil {
			return written, err
		}
	}
	return written, nil
}

// initGit makes dir a git repository (unless it is inside one) and commits
// the scaffold.
func initGit(dir string) error {
	s := &Sync{Dir: dir, Timeout: 20 * time.Second}
	ctx := context.Background()
	if _, err := s.git(ctx, "rev-parse", "--git-dir"); err != nil {
		if _, err := s.git(ctx, "init", "--quiet"); err != nil {
			return err
		}
	}
	if _, err := s.git(ctx, "add", "--", "."); err != nil {
		return err
	}
	if _, err := s.git(ctx, "commit", "--quiet", "--no-verify", "-m", "incident: the runbook", "--", "."); err != nil {
		return fmt.Errorf("%w; set your name and email (git config --global user.name/user.email) and commit the runbook yourself", err)
	}
	return nil
}
