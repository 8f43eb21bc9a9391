package static

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// The build manifest says what the last build of a site wrote: per
// incident the caller's key of its record (see Page.Key) and the incidents
// that key covers besides (Page.Deps), whether it was open, and its pages'
// sizes and modification times right after they were written. It lives in
// the state directory, never in the site (which is public and may be
// committed: the manifest names every incident on record, private ones
// too). It is a cache: a missing or damaged one makes the next build
// render everything, with the same result.
type manifest struct {
	Format    int               `json:"format"`
	Version   string            `json:"version"` // the caller's: program, templates, config
	Dir       string            `json:"dir"`     // the site
	Incidents map[string]*built `json:"incidents"`
}

// built is one incident as a build left it.
type built struct {
	Key   string     `json:"key"`
	Deps  []string   `json:"deps,omitempty"`
	Open  bool       `json:"open,omitempty"`
	Pages []pageStat `json:"pages,omitempty"` // none: the incident has no page (no public update)
}

// pageStat is what a page file looked like right after the build wrote it.
type pageStat struct {
	Name  string `json:"name"` // in incidents/
	Size  int64  `json:"size"`
	MTime int64  `json:"mtime"` // UnixNano
}

func statOf(name string, fi fs.FileInfo) pageStat {
	return pageStat{Name: name, Size: fi.Size(), MTime: fi.ModTime().UnixNano()}
}

func (s pageStat) matches(fi fs.FileInfo) bool {
	return fi.Mode().IsRegular() && fi.Size() == s.Size && fi.ModTime().UnixNano() == s.MTime
}

// manifestFormat changes whenever what a page shows is computed
// differently by this package in a way the caller's version would miss.
const manifestFormat = 1

// manifestPath is the manifest's file for this site, or "" when the
// publisher has no state directory (then every build is a full one).
func (p *Publisher) manifestPath() string {
	if p.stateDir == "" {
		return ""
	}
	abs, err := filepath.Abs(p.dir)
	if err != nil {
		return ""
	}
	h := sha256.Sum256([]byte(abs))
	return filepath.Join(p.stateDir, "site-build-"+hex.EncodeToString(h[:8])+".json")
}

// readManifest returns the last build's manifest when it was made by this
// version for this site and the site is there (its incidents/ and
// status.json); else nil.
func (p *Publisher) readManifest(version string) *manifest {
	path := p.manifestPath()
	if path == "" || version == "" {
		return nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var m manifest
	if json.Unmarshal(b, &m) != nil || m.Format != manifestFormat || m.Version != version || m.Dir != p.dir || m.Incidents == nil {
		return nil
	}
	if st, err := os.Stat(filepath.Join(p.dir, "incidents")); err != nil || !st.IsDir() {
		return nil
	}
	if _, err := os.Stat(filepath.Join(p.dir, "status.json")); err != nil {
		return nil
	}
	return &m
}

// writeManifest writes the manifest atomically (a cache: no sync).
func (p *Publisher) writeManifest(m *manifest) error {
	path := p.manifestPath()
	if path == "" {
		return nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	w := &files{}
	return w.write(filepath.Dir(path), filepath.Base(path), b)
}

// removeManifest forgets the last build: a build without a manifest
// replaced its pages.
func (p *Publisher) removeManifest() {
	if path := p.manifestPath(); path != "" {
		_ = os.Remove(path)
	}
}

// keep puts the last build's pages of an incident into the staging folder
// as they are: a hard link to each live page (a copy where the filesystem
// has none), checked against what the manifest says was written. It
// returns the pages as kept, or false (and nothing staged) when one is
// missing or was changed since.
func (b *Builder) keep(old []pageStat) ([]pageStat, bool) {
	live := filepath.Join(b.p.dir, "incidents")
	kept := make([]pageStat, 0, len(old))
	undo := func() {
		for _, pg := range kept {
			os.Remove(filepath.Join(b.stage, pg.Name))
		}
	}
	for _, pg := range old {
		src, dst := filepath.Join(live, pg.Name), filepath.Join(b.stage, pg.Name)
		now, err := keepFile(src, dst, pg)
		if err != nil {
			undo()
			return nil, false
		}
		kept = append(kept, now)
	}
	return kept, true
}

// errChanged is a kept page that is not what the last build wrote.
var errChanged = errors.New("the page changed since the last build")

// keepFile links src to dst and checks that it is the page pg describes
// (the link's own stat: what is checked is what is kept). Where links are
// refused it copies, and the copy is described by its own stat.
func keepFile(src, dst string, pg pageStat) (pageStat, error) {
	if err := os.Link(src, dst); err == nil {
		fi, err := os.Lstat(dst)
		if err != nil || !pg.matches(fi) {
			os.Remove(dst)
			return pageStat{}, errChanged
		}
		return pg, nil
	} else if errors.Is(err, fs.ErrNotExist) {
		return pageStat{}, err
	}
	in, err := os.Open(src)
	if err != nil {
		return pageStat{}, err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil || !pg.matches(fi) {
		return pageStat{}, errChanged
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return pageStat{}, err
	}
	_, err = io.Copy(out, io.LimitReader(in, pg.Size+1))
	if err == nil {
		fi, err = out.Stat()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil && fi.Size() != pg.Size {
		err = fmt.Errorf("%s: %w", src, errChanged)
	}
	if err != nil {
		os.Remove(dst)
		return pageStat{}, err
	}
	return statOf(pg.Name, fi), nil
}

// writeStat writes a new file of a build's staging folder and returns its
// stat as written (no sync: a build is cheap to run again).
func writeStat(path string, data []byte) (fs.FileInfo, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, err
	}
	_, err = f.Write(data)
	var fi fs.FileInfo
	if err == nil {
		fi, err = f.Stat()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return fi, err
}
