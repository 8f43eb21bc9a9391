package runbook

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/incident-cli/incident/publishers"
)

// Trust works the way git's safe.directory does, plus a guard on commands:
//
//   - A runbook whose incident.toml (or its folder) belongs to someone else,
//     or that its group or others can write, is refused unless the user
//     trusts its folder: whoever controls the config can make a cmd: secret
//     run anything as the user. The trusted folders are listed in the
//     user's own TrustFile ("*" trusts every folder).
//   - The cmd: references of a config run only once the user trusted them:
//     the hashes of the references trusted are kept in the runbook's state
//     directory, and a reference that is new (a `git pull` brought it, say)
//     is refused until the user trusts it again, at a terminal or with
//     `incident trust`.
//
// `incident trust DIR` (Trust) does both for DIR.

// TrustFileName is the name of the user's list of trusted runbook folders,
// in the user's config directory ($XDG_CONFIG_HOME/incident, else
// ~/.config/incident).
const TrustFileName = "trust.toml"

// trustedCommandsFile holds, in the runbook's state directory, the hashes
// of the cmd: references the user trusted.
const trustedCommandsFile = "trusted-commands.json"

// UntrustedError is a runbook the user does not own (or others can write)
// and has not trusted: nothing was run.
type UntrustedError struct {
	Path   string // the config file or the runbook folder
	Dir    string // the runbook folder, to trust
	Reason string // "belongs to uid 1001, not to you (uid 1000)"
}

func (e *UntrustedError) Error() string {
	fix := ""
	if strings.HasPrefix(e.Reason, "can be changed") {
		fix = fmt.Sprintf("run `chmod go-w %s`, or ", e.Path)
	}
	return fmt.Sprintf("%s %s: whoever controls a runbook's config can run any command as you through its cmd: secrets, so it is not used; %sif you trust it, run `incident trust %s` (it adds the folder to your %s)",
		e.Path, e.Reason, fix, e.Dir, TrustFileName)
}

// UntrustedCommandsError lists the cmd: references of a config that the
// user has not trusted (new, or changed since): none of them ran.
type UntrustedCommandsError struct {
	File     string
	Dir      string
	Commands []string // "incident.toml:23 cmd:pass …": never the arguments
}

func (e *UntrustedCommandsError) Error() string {
	return fmt.Sprintf("%s has cmd: secrets you have not trusted yet (new, or changed since you last did): %s; nothing ran: check them in the file, then run `incident trust %s` (or run the command at a terminal to be asked)",
		e.File, strings.Join(e.Commands, ", "), e.Dir)
}

// TrustFile is the path of the user's list of trusted runbook folders.
func TrustFile(getenv func(string) string) (string, error) {
	cfg := configHome(getenv)
	if cfg == "" {
		return "", errors.New("no config directory for the list of trusted runbooks: neither XDG_CONFIG_HOME nor HOME is set")
	}
	return filepath.Join(cfg, "incident", TrustFileName), nil
}

// trustList is the user's TrustFile.
type trustList struct {
	Trust []string `toml:"trust"`
}

// readTrustList reads the user's trusted folders. A list that someone else
// could have written is an error, not an empty list: it would trust what
// they chose.
func readTrustList(file string) ([]string, error) {
	fi, err := os.Stat(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if reason := notPrivate(fi); reason != "" {
		return nil, fmt.Errorf("%s %s: it names the runbooks you trust, so it must be yours alone; run `chmod go-w %s`", file, reason, file)
	}
	var l trustList
	if _, err := toml.DecodeFile(file, &l); err != nil {
		return nil, fmt.Errorf("%s: %v", file, err)
	}
	return l.Trust, nil
}

// notPrivate says why a file or folder is not safe to take orders from: it
// belongs to someone else, or its group or others can write it ("" when it
// is safe).
func notPrivate(fi os.FileInfo) string {
	if uid, me, ok := owner(fi); ok && uid != me {
		return fmt.Sprintf("belongs to uid %d, not to you (uid %d)", uid, me)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o022 != 0 {
		who := "its group"
		if fi.Mode().Perm()&0o002 != 0 {
			who = "anyone"
		}
		return fmt.Sprintf("can be changed by %s (mode %v)", who, fi.Mode().Perm())
	}
	return ""
}

// checkOwnership refuses the runbook in dir when its config or folder is
// not the user's own and the folder is not in the user's trust list.
func checkOwnership(dir string, getenv func(string) string) error {
	var problem *UntrustedError
	for _, p := range []string{filepath.Join(dir, ConfigFile), dir} {
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		if reason := notPrivate(fi); reason != "" {
			problem = &UntrustedError{Path: p, Dir: dir, Reason: reason}
			break
		}
	}
	if problem == nil {
		return nil
	}
	file, err := TrustFile(getenv)
	if err != nil {
		return problem
	}
	trusted, err := readTrustList(file)
	if err != nil {
		return err
	}
	if slices.Contains(trusted, "*") || slices.Contains(trusted, realPath(dir)) || slices.Contains(trusted, dir) {
		return nil
	}
	return problem
}

// realPath is p absolute with symbolic links resolved (p when that fails).
func realPath(p string) string {
	if abs, err := filepath.Abs(p); err == nil {
		p = abs
	}
	if r, err := filepath.EvalSymlinks(p); err == nil {
		return r
	}
	return p
}

// commandHash identifies a cmd: reference without keeping it.
func commandHash(s publishers.Secret) string {
	sum := sha256.Sum256([]byte(s.Ref()))
	return hex.EncodeToString(sum[:])
}

type trustedCommands struct {
	Commands []string `json:"commands"` // SHA-256 of each trusted cmd: reference
}

func (r *Runbook) trustedCommands() map[string]bool {
	out := map[string]bool{}
	b, err := os.ReadFile(filepath.Join(r.StateDir, trustedCommandsFile))
	if err != nil {
		return out
	}
	var t trustedCommands
	if json.Unmarshal(b, &t) == nil {
		for _, h := range t.Commands {
			out[h] = true
		}
	}
	return out
}

// UntrustedCommands returns the config's cmd: references the user has not
// trusted (never, or not since they changed).
func (r *Runbook) UntrustedCommands() []publishers.Secret {
	trusted := r.trustedCommands()
	var out []publishers.Secret
	for _, s := range r.secretRefs() {
		if s.IsCommand() && !trusted[commandHash(s)] {
			out = append(out, s)
		}
	}
	return out
}

// UntrustedCommandsError is the error for cmds (from UntrustedCommands),
// naming each by file:line and command name.
func (r *Runbook) UntrustedCommandsError(cmds []publishers.Secret) *UntrustedCommandsError {
	return &UntrustedCommandsError{File: r.ConfigFile, Dir: r.Dir, Commands: describeCommands(r.ConfigFile, cmds)}
}

// describeCommands names each reference by the line it stands on in the
// config and its command's name: "…/incident.toml:23 cmd:pass …".
func describeCommands(file string, cmds []publishers.Secret) []string {
	src, _ := os.ReadFile(file)
	lines := strings.Split(string(src), "\n")
	out := make([]string, len(cmds))
	for i, s := range cmds {
		out[i] = s.String()
		for n, l := range lines {
			if strings.Contains(l, s.Ref()) {
				out[i] = fmt.Sprintf("%s:%d %s", filepath.Base(file), n+1, s)
				break
			}
		}
	}
	return out
}

// TrustCommands records every cmd: reference of the config as trusted by
// the user, and lets the resolver run them.
func (r *Runbook) TrustCommands() error {
	return trustCommands(r.StateDir, r.secretRefs())
}

func trustCommands(stateDir string, refs []publishers.Secret) error {
	t := trustedCommands{Commands: []string{}}
	for _, s := range refs {
		if s.IsCommand() {
			t.Commands = append(t.Commands, commandHash(s))
		}
	}
	b, err := json.MarshalIndent(t, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return err
	}
	return writeAtomic(stateDir, trustedCommandsFile, append(b, '\n'))
}

// allowCommand is the resolver's check before a cmd: secret runs.
func (r *Runbook) allowCommand(s publishers.Secret) error {
	if r.trustedCommands()[commandHash(s)] {
		return nil
	}
	return r.UntrustedCommandsError([]publishers.Secret{s})
}

// TrustReport is what Trust did.
type TrustReport struct {
	Dir       string
	TrustFile string // set when the folder was added to the user's trust list
	Reason    string // why it had to be (someone else owns it, ...)
	Commands  []string
}

// Trust trusts the runbook in dir (as Find gives it): its folder,
// when someone else owns it or others can write it (added to the user's
// TrustFile), and its cmd: references as they are now. It runs nothing and
// only reads the config.
func Trust(dir string, getenv func(string) string) (*TrustReport, error) {
	found := dir // the state directory is keyed by the path as Find gives it, as in Open
	dir = realPath(dir)
	file := filepath.Join(dir, ConfigFile)
	if _, err := os.Stat(file); err != nil {
		return nil, fmt.Errorf("no %s in %s: nothing to trust", ConfigFile, dir)
	}
	rep := &TrustReport{Dir: dir}
	var untrusted *UntrustedError
	if err := checkOwnership(dir, getenv); errors.As(err, &untrusted) {
		tf, err := TrustFile(getenv)
		if err != nil {
			return nil, err
		}
		if err := addToTrustList(tf, dir); err != nil {
			return nil, err
		}
		rep.TrustFile, rep.Reason = tf, untrusted.Path+" "+untrusted.Reason
	} else if err != nil {
		return nil, err
	}
	state, err := StateDir(getenv, found)
	if err != nil {
		return nil, err
	}
	if err := ensureStateDir(state); err != nil {
		return nil, err
	}
	refs := configSecrets(file)
	if err := trustCommands(state, refs); err != nil {
		return nil, err
	}
	var cmds []publishers.Secret
	for _, s := range refs {
		if s.IsCommand() {
			cmds = append(cmds, s)
		}
	}
	rep.Commands = describeCommands(file, cmds)
	return rep, nil
}

// addToTrustList adds dir to the user's trust list, creating it (mode 0600).
func addToTrustList(file, dir string) error {
	list, err := readTrustList(file)
	if err != nil {
		return err
	}
	if slices.Contains(list, dir) {
		return nil
	}
	list = append(list, dir)
	var b strings.Builder
	b.WriteString("# Runbook folders you trust although someone else owns them or others can\n")
	b.WriteString("# write to them (like git's safe.directory); \"*\" trusts every folder.\n")
	b.WriteString("# `incident trust DIR` adds one.\n")
	if err := toml.NewEncoder(&b).Encode(trustList{Trust: list}); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return err
	}
	if err := writeAtomic(filepath.Dir(file), filepath.Base(file), []byte(b.String())); err != nil {
		return err
	}
	return os.Chmod(file, 0o600)
}
