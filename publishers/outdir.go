package publishers

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
)

// CheckOutputDir refuses a directory a channel writes files into (and may
// replace parts of) when it is the runbook directory, holds the incident
// records (env.Records) or lies inside them: a site built there would
// delete every record, and git sync would push the deletion. key and
// written are the config key and its value as written, for the error; dir
// is the directory it names.
func CheckOutputDir(key, written, dir string, env Env) error {
	if env.Records == "" {
		return nil
	}
	d, records := realPath(dir), realPath(env.Records)
	switch {
	case env.Dir != "" && d == realPath(env.Dir):
		return fmt.Errorf("`%s` %q is the runbook directory, which holds the incident records (%s): pages written there would replace them; use a folder of its own, such as \"site\"", key, written, env.Records)
	case within(records, d):
		return fmt.Errorf("`%s` %q holds the incident records (%s): pages written there would replace them; use a folder of its own, such as \"site\"", key, written, env.Records)
	case within(d, records):
		return fmt.Errorf("`%s` %q is inside the incident records (%s): pages written there would mix with them; use a folder of its own, such as \"site\"", key, written, env.Records)
	}
	return nil
}

// within reports whether path is dir or lies under it.
func within(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && (rel == "." || (rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))))
}

// realPath is p made absolute with symbolic links resolved, as far as it
// exists (the rest is appended as written).
func realPath(p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		return filepath.Clean(p)
	}
	if r, err := filepath.EvalSymlinks(abs); err == nil {
		return r
	}
	parent := filepath.Dir(abs)
	if parent == abs {
		return abs
	}
	return filepath.Join(realPath(parent), filepath.Base(abs))
}

// HoldsEventFiles reports whether dir (or any folder under it) holds a
// *.toml file: incident records, which a channel must never delete.
func HoldsEventFiles(dir string) (bool, error) {
	found := errors.New("found")
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(d.Name(), ".toml") {
			return found
		}
		return nil
	})
	switch {
	case errors.Is(err, found):
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	}
	return false, err
}
