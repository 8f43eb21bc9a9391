package hugo

import (
	"os"
	"path/filepath"
)

// createTemp is os.CreateTemp, replaced in tests to simulate a failing disk.
var createTemp = os.CreateTemp

// writeFileAtomic replaces path with data so that readers (hugo server, a
// concurrent git add) see either the old file or the new one, never a part:
// a temporary file in the same directory is written, synced, closed and
// renamed over path, then the directory is synced. On error the temporary
// file is removed and path is untouched.
func writeFileAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	f, err := createTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Chmod(0o644); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(dir)
}

// syncDir makes the rename durable. Some systems cannot fsync a directory;
// that is not worth failing the write for.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return nil
	}
	_ = d.Sync()
	return d.Close()
}
