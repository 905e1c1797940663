package catalogfile

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// watcher follows the catalog file through inotify on its directory: the
// atomic writes of this package rename a new file over it (IN_MOVED_TO),
// other writers may write it in place (IN_CLOSE_WRITE).
type watcher struct {
	file *os.File
	done chan struct{}
}

func watch(f *File) (*watcher, error) {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil, os.NewSyscallError("inotify_init1", err)
	}
	dir := filepath.Dir(f.path)
	if _, err := unix.InotifyAddWatch(fd, dir, unix.IN_MOVED_TO|unix.IN_CLOSE_WRITE); err != nil {
		unix.Close(fd)
		return nil, &os.PathError{Op: "inotify_add_watch", Path: dir, Err: err}
	}
	// A non-blocking descriptor goes to the runtime poller: Read parks the
	// goroutine, Close wakes it.
	w := &watcher{file: os.NewFile(uintptr(fd), "inotify:"+dir), done: make(chan struct{})}
	go w.loop(f, filepath.Base(f.path))
	return w, nil
}

func (w *watcher) loop(f *File, name string) {
	defer close(w.done)
	buf := make([]byte, 64*(unix.SizeofInotifyEvent+unix.NAME_MAX+1))
	for {
		n, err := w.file.Read(buf)
		if err != nil {
			return // closed
		}
		hit := false
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			mask := binary.NativeEndian.Uint32(buf[off+4:])
			l := int(binary.NativeEndian.Uint32(buf[off+12:]))
			start := off + unix.SizeofInotifyEvent
			if start+l > n {
				break
			}
			ev := string(bytes.TrimRight(buf[start:start+l], "\x00"))
			if mask&unix.IN_Q_OVERFLOW != 0 || ev == name {
				hit = true
			}
			off = start + l
		}
		if hit {
			if err := f.Reload(); err != nil && f.opts.WatchError != nil {
				f.opts.WatchError(err)
			}
		}
	}
}

func (w *watcher) close() {
	w.file.Close()
	<-w.done
}
