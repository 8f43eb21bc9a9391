package static

import (
	"os"
	"path/filepath"
	"sync"
)

// files writes the files of one publish or build. Each file goes to a temp
// file beside its place and is renamed into place, so a reader never sees
// half a page. Without sync (a full build, cheap to run again) each is
// renamed at once. With sync (a publish) commit first syncs every temp file
// to disk, concurrently, so that the filesystem's journal takes them in one
// go rather than one commit per file, then renames them in the order they
// were written: a power cut leaves each file whole, old or new.
type files struct {
	sync    bool
	pending []pendingFile
}

type pendingFile struct {
	f    *os.File
	dest string
}

// write writes dir/rel.
func (w *files) write(dir, rel string, data []byte) error {
	dest := filepath.Join(dir, rel)
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(dest), ".tmp-*")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(0o644)
	}
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	if w.sync {
		w.pending = append(w.pending, pendingFile{f, dest})
		return nil
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return err
	}
	return os.Rename(f.Name(), dest)
}

// commit syncs and renames the files written with sync.
func (w *files) commit() error {
	errs := make([]error, len(w.pending))
	var wg sync.WaitGroup
	for i, p := range w.pending {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = p.f.Sync()
		}()
	}
	wg.Wait()
	for i, p := range w.pending {
		if err := p.f.Close(); errs[i] == nil {
			errs[i] = err
		}
	}
	for _, err := range errs {
		if err != nil {
			return err // abort removes the temp files
		}
	}
	for i, p := range w.pending {
		if err := os.Rename(p.f.Name(), p.dest); err != nil {
			w.pending = w.pending[i:]
			return err
		}
	}
	w.pending = nil
	return nil
}

// abort removes the temp files of a publish that failed before commit.
func (w *files) abort() {
	for _, p := range w.pending {
		p.f.Close()
		os.Remove(p.f.Name())
	}
	w.pending = nil
}
