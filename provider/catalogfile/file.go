package catalogfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/wsa"
)

// Defaults installs the default catalog (the analog of what `netsh winsock
// reset` restores) into c, an empty catalog whose next id is 1001, with c's
// WSC* methods. The caller supplies it, e.g. the netstack provider's
// Protocols under its path: this package knows no provider.
type Defaults func(c *provider.Catalog) error

// Options configure Open.
type Options struct {
	// Defaults makes the default catalog, for Create and Reset. nil is an
	// empty catalog.
	Defaults Defaults
	// Create makes the file (and its directory) with the default catalog
	// when it does not exist.
	Create bool
	// Watch follows changes other processes (or other File values) make to
	// the file, through inotify on its directory: each change is loaded into
	// the catalog at once, so its Sessions see it and
	// WSAProviderConfigChange reports it. Without Watch the catalog learns
	// of them at Reload or at its next change.
	Watch bool
	// WatchError, if set, receives the errors of the reloads Watch makes
	// (a file that became unreadable or corrupt: the catalog keeps its
	// content).
	WatchError func(error)
}

// maxFileSize bounds what Read reads: far beyond any real catalog (an entry
// takes about 900 bytes), and it keeps a path like /dev/zero from reading
// forever.
const maxFileSize = 16 << 20

// maxAttempts bounds the retries of a change whose file changed between the
// read and the rename despite the lock (a writer that ignores the lock).
const maxAttempts = 5

// StoreError is a change that could not be read from or written to the
// catalog file: the file is refused (ErrCorrupt, ErrVersion,
// ErrNotCatalog), missing, or not accessible. errors.Is reports both its
// cause and wsa.WSANO_RECOVERY, the code Windows gives when the catalog
// cannot be written; its message is the cause's.
type StoreError struct{ Err error }

func (e *StoreError) Error() string   { return e.Err.Error() }
func (e *StoreError) Unwrap() []error { return []error{e.Err, wsa.WSANO_RECOVERY} }

func storeErr(err error) error {
	if err == nil {
		return nil
	}
	return &StoreError{Err: err}
}

// Read returns what the catalog file at path holds. A file it refuses is an
// *Error (ErrCorrupt, ErrVersion, ErrNotCatalog) with the path; a file it
// cannot read is the *fs.PathError.
func Read(path string) (Snapshot, error) {
	_, s, err := readFile(path)
	return s, err
}

func readFile(path string) ([]byte, Snapshot, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, Snapshot{}, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, Snapshot{}, err
	}
	if len(b) > maxFileSize {
		return b, Snapshot{}, &Error{Path: path, Err: ErrCorrupt, Reason: fmt.Sprintf("larger than %d bytes", maxFileSize)}
	}
	s, err := Unmarshal(b)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			e.Path = path
		}
		return b, Snapshot{}, err
	}
	return b, s, nil
}

// Load reads the catalog file at path into a new catalog whose provider
// paths resolve through reg (provider.DefaultRegistry if nil). The catalog
// is not bound to the file: see Open for that.
func Load(path string, reg *provider.Registry) (*provider.Catalog, error) {
	s, err := Read(path)
	if err != nil {
		return nil, err
	}
	c := provider.NewCatalog(reg)
	if err := c.SetState(s.State); err != nil {
		return nil, err // Unmarshal checked the state
	}
	return c, nil
}

// Save writes c's content to path, atomically, as the file's next version
// (serial + 1; 1 for a new file). It replaces what the file held: to merge
// with the changes of other writers, change the catalog through a File.
// A file that exists and is refused (corrupt, another version, not a
// catalog) is not overwritten.
func Save(c *provider.Catalog, path string) error {
	l, err := lock(path)
	if err != nil {
		return err
	}
	defer l.unlock()
	old, s, err := readFile(path)
	serial := uint64(1)
	switch {
	case err == nil:
		serial = s.Serial + 1
	case errors.Is(err, fs.ErrNotExist):
		old = nil
	default:
		return err
	}
	data, err := Marshal(Snapshot{Serial: serial, State: c.State()})
	if err != nil {
		return err
	}
	ok, err := writeAtomic(path, old, data)
	if err == nil && !ok {
		err = errChangedUnderLock(path)
	}
	return err
}

// Quarantine moves a catalog file that Read refuses aside, so that a fresh
// one can be made (`ws2d catalog reset --force`): it renames it to
// PATH.bad-YYYYMMDD-HHMMSS (plus -N if that exists) and returns the new
// name. Its bytes are kept as they were. A file that Read accepts is not
// moved (an error says so).
func Quarantine(path string) (string, error) {
	l, err := lock(path)
	if err != nil {
		return "", err
	}
	defer l.unlock()
	_, _, err = readFile(path)
	var e *Error
	if !errors.As(err, &e) {
		if err == nil {
			return "", fmt.Errorf("catalog file %s is valid: not moved", path)
		}
		return "", err
	}
	base := path + ".bad-" + time.Now().Format("20060102-150405")
	name := base
	for i := 1; ; i++ {
		if _, err := os.Lstat(name); errors.Is(err, fs.ErrNotExist) {
			break
		}
		name = fmt.Sprintf("%s-%d", base, i)
	}
	if err := os.Rename(path, name); err != nil {
		return "", err
	}
	return name, syncDir(filepath.Dir(path))
}

func errChangedUnderLock(path string) error {
	return fmt.Errorf("catalog file %s keeps changing while locked: some writer ignores the lock file %s", path, path+lockSuffix)
}

// File is a catalog bound to a catalog file: every change made through the
// catalog's WSC* methods, or through Update and Reset, is applied to the
// file's current content under the file's lock and written back
// atomically, then published to the catalog (see the package doc). Open
// makes one.
//
// A File is safe for concurrent use.
type File struct {
	path string
	cat  *provider.Catalog
	opts Options

	mu     sync.Mutex // orders reads and publications
	serial uint64     // Serial_Access_Num of the content published to cat
	loaded bool
	closed bool
	w      *watcher
}

// Open binds cat (a new catalog over provider.DefaultRegistry if nil) to
// the catalog file at path: it loads the file into cat (replacing its
// content, which counts as a change) and makes the File cat's Store, so that
// cat's WSC* changes go to the file. With opts.Create a missing file is
// made with opts.Defaults; otherwise a missing file is an error
// (fs.ErrNotExist). A file Read refuses is an error and is left as it is.
func Open(path string, cat *provider.Catalog, opts Options) (*File, error) {
	if cat == nil {
		cat = provider.NewCatalog(nil)
	}
	f := &File{path: path, cat: cat, opts: opts}
	if opts.Watch {
		// Watch before the first read, so no change falls between them.
		if opts.Create {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				return nil, err
			}
		}
		w, err := watch(f)
		if err != nil {
			return nil, err
		}
		f.w = w
	}
	_, s, err := readFile(path)
	if errors.Is(err, fs.ErrNotExist) && opts.Create {
		s, err = f.create()
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	f.publish(s)
	cat.SetStore(f)
	return f, nil
}

// create makes the file with the default catalog (serial 1), unless it
// appeared meanwhile, and returns what it holds.
func (f *File) create() (Snapshot, error) {
	if err := os.MkdirAll(filepath.Dir(f.path), 0o755); err != nil {
		return Snapshot{}, err
	}
	l, err := lock(f.path)
	if err != nil {
		return Snapshot{}, err
	}
	defer l.unlock()
	for range maxAttempts {
		_, s, err := readFile(f.path)
		if !errors.Is(err, fs.ErrNotExist) {
			return s, err
		}
		s, err = f.defaults(1)
		if err != nil {
			return Snapshot{}, err
		}
		data, err := Marshal(s)
		if err != nil {
			return Snapshot{}, err
		}
		ok, err := writeAtomic(f.path, nil, data)
		if err != nil {
			return Snapshot{}, err
		}
		if ok {
			return s, nil
		}
	}
	return Snapshot{}, errChangedUnderLock(f.path)
}

// defaults returns the default catalog.
func (f *File) defaults(serial uint64) (Snapshot, error) {
	t := provider.NewCatalog(f.cat.Registry())
	if f.opts.Defaults != nil {
		if err := f.opts.Defaults(t); err != nil {
			return Snapshot{}, fmt.Errorf("catalogfile: installing the default catalog: %w", err)
		}
	}
	return Snapshot{Serial: serial, State: t.State()}, nil
}

// Path returns the file's path.
func (f *File) Path() string { return f.path }

// Catalog returns the bound catalog.
func (f *File) Catalog() *provider.Catalog { return f.cat }

// Serial returns the Serial_Access_Num of the file content the catalog
// holds.
func (f *File) Serial() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.serial
}

// Commit is Update: it makes a File the provider.Store of its catalog.
func (f *File) Commit(op func(*provider.Catalog) error) error { return f.Update(op) }

// Update makes one change, atomically with respect to every other writer of
// the file: under the file's lock it reads the file, applies op to a
// catalog holding that content (not to the bound catalog, which may be
// behind), and if op succeeds writes the result as the next serial
// (temporary file, fsync, rename, fsync of the directory) and publishes it
// to the bound catalog. op's error is returned as it is, and nothing is
// written; the catalog is still brought up to date with the file. Use it
// for changes of several steps (install a layer, then chains over it, then
// the order) that must not interleave with others. op must change only the
// catalog it is given (a change of the bound catalog from inside op would
// wait for the lock op's caller holds).
//
// Failures of the file are *StoreError (WSANO_RECOVERY to errors.Is); a
// refused file is never written.
func (f *File) Update(op func(*provider.Catalog) error) error {
	f.mu.Lock()
	closed := f.closed
	f.mu.Unlock()
	if closed {
		return storeErr(fmt.Errorf("catalog file %s: %w", f.path, fs.ErrClosed))
	}
	l, err := lock(f.path)
	if err != nil {
		return storeErr(err)
	}
	defer l.unlock()
	for range maxAttempts {
		old, s, err := readFile(f.path)
		if err != nil {
			return storeErr(err)
		}
		t := provider.NewCatalog(f.cat.Registry())
		if err := t.SetState(s.State); err != nil {
			return storeErr(err) // Unmarshal checked the state
		}
		if err := op(t); err != nil {
			f.publish(s)
			return err
		}
		next := Snapshot{Serial: s.Serial + 1, State: t.State()}
		data, err := Marshal(next)
		if err != nil {
			f.publish(s)
			return err
		}
		ok, err := writeAtomic(f.path, old, data)
		if err != nil {
			return storeErr(err)
		}
		if ok {
			f.publish(next)
			return nil
		}
	}
	return storeErr(errChangedUnderLock(f.path))
}

// Reset restores the default catalog (Options.Defaults), the analog of
// `netsh winsock reset`: every entry is replaced and ids start again at
// 1001. The serial goes on increasing. A file Read refuses is not reset (see
// Quarantine).
func (f *File) Reset() error {
	return f.Update(func(t *provider.Catalog) error {
		d, err := f.defaults(0)
		if err != nil {
			return err
		}
		return t.SetState(d.State)
	})
}

// Reload loads the file into the catalog if it changed since the catalog
// last loaded it (another serial). Watch calls it on every change of the
// file; without Watch, call it to catch up with other writers.
func (f *File) Reload() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil
	}
	_, s, err := readFile(f.path)
	if err != nil {
		return err
	}
	f.publishLocked(s)
	return nil
}

// publish makes s the catalog's content unless the catalog holds it
// already. Every read that leads to a publication happens either under the
// file lock (Update) or under f.mu (Reload), so a publication never
// replaces newer content with older.
func (f *File) publish(s Snapshot) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.publishLocked(s)
}

func (f *File) publishLocked(s Snapshot) {
	if f.closed || f.loaded && s.Serial == f.serial {
		return
	}
	if err := f.cat.SetState(s.State); err != nil {
		return // Unmarshal and Marshal checked the state
	}
	f.serial, f.loaded = s.Serial, true
}

// Close stops watching the file and unbinds the catalog, which keeps its
// content; its later changes stay in memory. Closing twice is harmless.
func (f *File) Close() error {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return nil
	}
	f.closed = true
	w := f.w
	f.mu.Unlock()
	if w != nil {
		w.close()
	}
	if st, ok := f.cat.Store().(*File); ok && st == f {
		f.cat.SetStore(nil)
	}
	return nil
}

// writeAtomic replaces the file at path with data if it still holds old
// (nil: if it still does not exist): temporary file in the same directory,
// write, fsync, rename, fsync of the directory. It reports false, having
// changed nothing, when the file changed; the caller holds the lock, so
// only a writer ignoring it can do that. The file keeps its permissions
// and, where the writer may set it (root), its owner; a new file gets 0644.
func writeAtomic(path string, old, data []byte) (bool, error) {
	mode := fs.FileMode(0o644)
	uid, gid := -1, -1
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			uid, gid = int(st.Uid), int(st.Gid)
		}
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return false, err
	}
	name := tmp.Name()
	defer func() {
		if name != "" {
			os.Remove(name)
		}
	}()
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Chmod(mode)
	}
	if err == nil && uid >= 0 && (uid != os.Geteuid() || gid != os.Getegid()) {
		_ = tmp.Chown(uid, gid) // only root may; others keep their own
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return false, err
	}
	cur, err := os.ReadFile(path)
	switch {
	case old == nil && err == nil:
		return false, nil // appeared
	case old == nil && errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return false, err
	case !bytes.Equal(cur, old):
		return false, nil
	}
	if err := os.Rename(name, path); err != nil {
		return false, err
	}
	name = ""
	return true, syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
