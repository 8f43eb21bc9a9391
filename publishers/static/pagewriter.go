package static

import (
	"os"
	"path/filepath"
)

// A build's pages are written by one goroutine (see Builder).

// pageWrite is one incident's rendered pages, for the page writer.
type pageWrite struct {
	rec   *built // Pages holds the names; the writer adds their stats
	id    string
	pages [][]byte
}

// writer writes the pages Add renders, into the staging folder, then, in
// an incremental build, over the live ones.
func (b *Builder) writer() {
	defer b.written.Done()
	for w := range b.writes {
		if err := b.write(w); err != nil {
			b.mu.Lock()
			if b.failed == nil {
				b.failed = err
			}
			b.mu.Unlock()
		}
	}
}

func (b *Builder) write(w pageWrite) error {
	b.mu.Lock()
	failed := b.failed
	b.mu.Unlock()
	if failed != nil {
		return nil // the build fails anyway: write nothing more
	}
	for i, data := range w.pages {
		name := w.rec.Pages[i].Name
		fi, err := writeStat(filepath.Join(b.stage, name), data)
		if err != nil {
			return err
		}
		w.rec.Pages[i] = statOf(name, fi)
		if b.last != nil {
			if err := os.Rename(filepath.Join(b.stage, name), filepath.Join(b.p.dir, "incidents", name)); err != nil {
				return err
			}
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.n++
	if b.next != nil && w.rec.Key != "" {
		b.next.Incidents[w.id] = w.rec
	}
	return nil
}

// drain waits for the page writer to write what it was given, and returns
// its first error.
func (b *Builder) drain() error {
	b.closed.Do(func() { close(b.writes) })
	b.written.Wait()
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.failed
}
