package runbook

import (
	"io/fs"
	"sort"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/incident-cli/incident/internal/regular"
)

// eventFileSizes lists the event files of an incident folder, sorted, with
// their sizes: the folder is read once and each file stated relative to it
// (fstatat), without os.File's set-up for every file. A site build does
// this for every incident on record.
func eventFileSizes(dir string) ([]string, []int64, error) {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	for err == unix.EINTR {
		fd, err = unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	}
	if err != nil {
		return nil, nil, &fs.PathError{Op: "open", Path: dir, Err: err}
	}
	defer unix.Close(fd)
	var (
		names []string
		buf   = make([]byte, 8<<10)
	)
	for {
		n, err := unix.ReadDirent(fd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, nil, &fs.PathError{Op: "readdirent", Path: dir, Err: err}
		}
		if n <= 0 {
			break
		}
		_, _, names = unix.ParseDirent(buf[:n], -1, names)
	}
	sort.Strings(names)
	out, sizes := names[:0], make([]int64, 0, len(names))
	for _, n := range names {
		if strings.HasPrefix(n, ".") || !strings.HasSuffix(n, ".toml") {
			continue
		}
		var st unix.Stat_t
		err := unix.Fstatat(fd, n, &st, unix.AT_SYMLINK_NOFOLLOW)
		for err == unix.EINTR {
			err = unix.Fstatat(fd, n, &st, unix.AT_SYMLINK_NOFOLLOW)
		}
		if err != nil {
			return nil, nil, &fs.PathError{Op: "lstat", Path: dir + "/" + n, Err: err}
		}
		if st.Mode&unix.S_IFMT == unix.S_IFDIR {
			continue
		}
		out = append(out, n)
		sizes = append(sizes, st.Size)
	}
	return out, sizes, nil
}

// readLimited reads a small file whole, or its first max+1 bytes when it
// is larger (the caller refuses it then), with plain system calls: a site
// build reads every event file on record, and os.File's set-up for the
// runtime's poller costs more than the read itself. Only a regular file is
// read: a symlink (which a teammate's commit can carry, pointing at a key
// or a password file on this machine) is never followed (O_NOFOLLOW), and
// a FIFO or device put in place of a file is refused without being waited
// on (O_NONBLOCK, then fstat).
func readLimited(path string, max int) ([]byte, error) {
	const flags = unix.O_RDONLY | unix.O_CLOEXEC | unix.O_NONBLOCK | unix.O_NOFOLLOW
	fd, err := unix.Open(path, flags, 0)
	for err == unix.EINTR {
		fd, err = unix.Open(path, flags, 0)
	}
	if err == unix.ELOOP {
		return nil, notRegular(path, regular.Symlink)
	}
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	err = unix.Fstat(fd, &st)
	for err == unix.EINTR {
		err = unix.Fstat(fd, &st)
	}
	if err != nil {
		return nil, &fs.PathError{Op: "fstat", Path: path, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, notRegular(path, regular.Special)
	}
	buf := make([]byte, 0, 2048)
	for len(buf) <= max {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := unix.Read(fd, buf[len(buf):min(cap(buf), max+1)])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, &fs.PathError{Op: "read", Path: path, Err: err}
		}
		if n == 0 {
			break
		}
		buf = buf[:len(buf)+n]
	}
	return buf, nil
}
