package catalogfile

import (
	"os"

	"golang.org/x/sys/unix"
)

// lockSuffix names the lock file beside the catalog file: PATH.lock. It is
// made on first use and never removed (removing a lock file that another
// process has open would let two writers hold "the" lock).
const lockSuffix = ".lock"

// fileLock is an exclusive flock(2) on the lock file. flock locks belong to
// the open file description, so two File values in one process exclude each
// other as two processes do.
type fileLock struct{ f *os.File }

func lock(path string) (*fileLock, error) {
	// flock needs no write access: a lock file made by another user works.
	f, err := os.OpenFile(path+lockSuffix, os.O_RDONLY|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, &os.PathError{Op: "flock", Path: f.Name(), Err: err}
	}
	return &fileLock{f: f}, nil
}

func (l *fileLock) unlock() {
	_ = unix.Flock(int(l.f.Fd()), unix.LOCK_UN)
	l.f.Close()
}
