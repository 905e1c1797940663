package catalogfile

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/wsa"
)

const testTimeout = 20 * time.Second

func base(name string, af, typ, proto int32) wsa.ProtocolInfo {
	return wsa.ProtocolInfo{
		ServiceFlags1: wsa.XP1_IFS_HANDLES | wsa.XP1_GUARANTEED_DELIVERY, ProviderFlags: wsa.PFL_MATCHES_PROTOCOL_ZERO,
		ProtocolChain: wsa.ProtocolChain{ChainLen: wsa.BASE_PROTOCOL}, Version: 2,
		AddressFamily: af, SocketType: typ, Protocol: proto, ProtocolName: name,
	}
}

// defaults is a small default catalog: two TCP/UDP providers.
func defaults(c *provider.Catalog) error {
	if err := c.WSCInstallProvider(guidBase, "ws2/netstack", []wsa.ProtocolInfo{
		base("TCP/IP", wsa.AF_INET, wsa.SOCK_STREAM, wsa.IPPROTO_TCP),
		base("UDP/IP", wsa.AF_INET, wsa.SOCK_DGRAM, wsa.IPPROTO_UDP),
	}); err != nil {
		return err
	}
	return c.WSCInstallProvider(guidBase6, "ws2/netstack", []wsa.ProtocolInfo{
		base("TCP/IPv6", wsa.AF_INET6, wsa.SOCK_STREAM, wsa.IPPROTO_TCP),
		base("UDP/IPv6", wsa.AF_INET6, wsa.SOCK_DGRAM, wsa.IPPROTO_UDP),
	})
}

func tempPath(t *testing.T) string { return filepath.Join(t.TempDir(), "catalog.json") }

func open(t *testing.T, path string, opts Options) *File {
	t.Helper()
	if opts.Defaults == nil {
		opts.Defaults = defaults
	}
	f, err := Open(path, provider.NewCatalog(provider.NewRegistry()), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func ids(c *provider.Catalog) []uint32 {
	var out []uint32
	for _, p := range c.WSCEnumProtocols(nil) {
		out = append(out, p.CatalogEntryId)
	}
	return out
}

func TestSaveLoadRoundTrip(t *testing.T) {
	path := tempPath(t)
	c := provider.NewCatalog(provider.NewRegistry())
	if err := c.SetState(richState()); err != nil {
		t.Fatal(err)
	}
	if err := Save(c, path); err != nil {
		t.Fatal(err)
	}
	reg := provider.NewRegistry()
	got, err := Load(path, reg)
	if err != nil {
		t.Fatal(err)
	}
	if got.Registry() != reg {
		t.Error("Load ignored the registry")
	}
	if !reflect.DeepEqual(got.State(), c.State()) {
		t.Errorf("loaded state differs:\n got %+v\nwant %+v", got.State(), c.State())
	}
	if got.NextCatalogEntryID() != 2000 {
		t.Errorf("next id %d, want 2000", got.NextCatalogEntryID())
	}
	// The next install continues from the saved next id.
	if err := got.WSCInstallProvider(wsa.GUID{Data1: 77}, "p", []wsa.ProtocolInfo{base("x", 2, 1, 6)}); err != nil {
		t.Fatal(err)
	}
	if e, ok := got.ByID(2000); !ok || e.Info.ProtocolName != "x" {
		t.Errorf("install after load did not get id 2000")
	}
	s, err := Read(path)
	if err != nil || s.Serial != 1 {
		t.Fatalf("serial %d, %v; want 1", s.Serial, err)
	}
	if err := Save(got, path); err != nil {
		t.Fatal(err)
	}
	if s, _ := Read(path); s.Serial != 2 || len(s.Entries) != 9 {
		t.Errorf("after a second save: serial %d, %d entries; want 2, 9", s.Serial, len(s.Entries))
	}
	// No temporary files are left behind.
	names, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".catalog.json.tmp-*"))
	if len(names) != 0 {
		t.Errorf("temporary files left: %v", names)
	}
}

func TestOpenCreateAndPersist(t *testing.T) {
	path := tempPath(t)
	if _, err := Open(path, nil, Options{Defaults: defaults}); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Open of a missing file without Create: %v, want ErrNotExist", err)
	}
	f := open(t, path, Options{Create: true})
	cat := f.Catalog()
	if got := ids(cat); !slices.Equal(got, []uint32{1001, 1002, 1003, 1004}) {
		t.Fatalf("created catalog ids %v", got)
	}
	if cat.Store() != f {
		t.Fatal("the catalog is not bound to the file")
	}
	// Every WSC* change goes to the file.
	layer := base("layer", wsa.AF_INET, wsa.SOCK_STREAM, 6)
	layer.ProtocolChain.ChainLen = 0
	if err := cat.WSCInstallProvider(guidLayer, "ws2/lsp/x", []wsa.ProtocolInfo{layer}); err != nil {
		t.Fatal(err)
	}
	if err := cat.WSCWriteProviderOrder([]uint32{1005, 1004, 1003, 1002, 1001}); err != nil {
		t.Fatal(err)
	}
	if err := cat.WSCDeinstallProvider(guidBase); err != nil {
		t.Fatal(err)
	}
	s, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if s.Serial != 4 || f.Serial() != 4 {
		t.Errorf("serial %d (File %d), want 4", s.Serial, f.Serial())
	}
	if !reflect.DeepEqual(s.State, cat.State()) {
		t.Errorf("file and catalog differ:\nfile %+v\ncat  %+v", s.State, cat.State())
	}
	// The errors of an operation are returned as they are, and nothing is
	// written.
	if err := cat.WSCDeinstallProvider(guidBase); err != wsa.WSAEINVAL {
		t.Errorf("second deinstall: %v, want WSAEINVAL itself", err)
	}
	if err := cat.WSCWriteProviderOrder([]uint32{1}); err != wsa.WSAEINVAL {
		t.Errorf("bad order: %v, want WSAEINVAL", err)
	}
	if s2, _ := Read(path); s2.Serial != 4 {
		t.Errorf("a refused change wrote the file (serial %d)", s2.Serial)
	}
	// Close unbinds; the catalog keeps its content.
	f.Close()
	if cat.Store() != nil {
		t.Error("Close left the store bound")
	}
	if err := f.Update(func(*provider.Catalog) error { return nil }); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("Update after Close: %v", err)
	}
}

// TestUpdateKeepsIDsAndOrder: WSCUpdateProvider keeps the ids and the
// positions, through the file and after a reload.
func TestUpdateKeepsIDsAndOrder(t *testing.T) {
	path := tempPath(t)
	f := open(t, path, Options{Create: true})
	cat := f.Catalog()
	if err := cat.WSCWriteProviderOrder([]uint32{1003, 1001, 1004, 1002}); err != nil {
		t.Fatal(err)
	}
	upd := []wsa.ProtocolInfo{base("TCP/IP v2", wsa.AF_INET, wsa.SOCK_STREAM, 6), base("UDP/IP v2", wsa.AF_INET, wsa.SOCK_DGRAM, 17)}
	upd[0].ServiceFlags1 = 0x1234
	if err := cat.WSCUpdateProvider(guidBase, "ws2/netstack2", upd); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if o := ids(got); !slices.Equal(o, []uint32{1003, 1001, 1004, 1002}) {
		t.Errorf("order after update and reload: %v", o)
	}
	e, _ := got.ByID(1001)
	if e.Info.ProtocolName != "TCP/IP v2" || e.Path != "ws2/netstack2" || e.Info.ServiceFlags1 != 0x1234 || e.Info.ProtocolChain.ChainEntries[0] != 1001 {
		t.Errorf("entry 1001 after update: %+v", e)
	}
	if got.NextCatalogEntryID() != 1005 {
		t.Errorf("next id %d, want 1005", got.NextCatalogEntryID())
	}
}

func TestReset(t *testing.T) {
	path := tempPath(t)
	f := open(t, path, Options{Create: true})
	cat := f.Catalog()
	if err := cat.WSCDeinstallProvider(guidBase6); err != nil {
		t.Fatal(err)
	}
	if err := cat.WSCInstallProvider(guidLayer, "x", []wsa.ProtocolInfo{base("x", 2, 1, 6)}); err != nil {
		t.Fatal(err)
	}
	before := f.Serial()
	if err := f.Reset(); err != nil {
		t.Fatal(err)
	}
	if got := ids(cat); !slices.Equal(got, []uint32{1001, 1002, 1003, 1004}) {
		t.Errorf("ids after reset: %v", got)
	}
	if cat.NextCatalogEntryID() != 1005 {
		t.Errorf("next id after reset %d", cat.NextCatalogEntryID())
	}
	s, _ := Read(path)
	if s.Serial != before+1 {
		t.Errorf("serial after reset %d, want %d (the serial never goes back)", s.Serial, before+1)
	}
	// A File without Defaults resets to the empty catalog.
	g, err := Open(path, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if err := g.Reset(); err != nil || len(g.Catalog().Entries()) != 0 {
		t.Errorf("reset without defaults: %v, %d entries", err, len(g.Catalog().Entries()))
	}
}

// refusedFiles are catalog files every operation must refuse and leave
// alone.
func refusedFiles(t *testing.T) map[string][]byte {
	good := mustMarshal(t, Snapshot{Serial: 5, State: richState()})
	flipped := append([]byte{}, good...)
	flipped[len(flipped)/2] ^= 0x10
	return map[string][]byte{
		"empty":     {},
		"truncated": good[:len(good)-10],
		"bit flip":  flipped,
		"version":   reseal(bytes.Replace(good, []byte(`"version": 1,`), []byte(`"version": 7,`), 1)),
		"magic":     reseal(bytes.Replace(good, []byte(Format), []byte("something-else"), 1)),
		"garbage":   []byte("\x00\x01\x02 not a catalog"),
	}
}

// TestRefusedFilesAreNeverWritten: every way of reading or changing a
// refused file fails with the right error and leaves its bytes as they were.
func TestRefusedFilesAreNeverWritten(t *testing.T) {
	want := map[string]error{"version": ErrVersion, "magic": ErrNotCatalog}
	for name, b := range refusedFiles(t) {
		t.Run(name, func(t *testing.T) {
			wantErr := want[name]
			if wantErr == nil {
				wantErr = ErrCorrupt
			}
			path := tempPath(t)
			// A File bound while the file was good, for the changes below.
			f := open(t, path, Options{Create: true})
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			check := func(what string, err error) {
				t.Helper()
				if !errors.Is(err, wantErr) {
					t.Errorf("%s: %v, want %v", what, err, wantErr)
				}
				var e *Error
				if !errors.As(err, &e) || e.Path != path {
					t.Errorf("%s: %v does not name the path", what, err)
				}
				if got, _ := os.ReadFile(path); !bytes.Equal(got, b) {
					t.Fatalf("%s changed the file", what)
				}
			}
			_, err := Read(path)
			check("Read", err)
			_, err = Load(path, nil)
			check("Load", err)
			_, err = Open(path, nil, Options{Create: true, Defaults: defaults})
			check("Open", err)
			check("Save", Save(provider.NewCatalog(nil), path))
			check("Reload", f.Reload())
			check("Reset", f.Reset())
			err = f.Catalog().WSCInstallProvider(wsa.GUID{Data1: 1}, "p", []wsa.ProtocolInfo{base("x", 2, 1, 6)})
			check("WSCInstallProvider", err)
			if !errors.Is(err, wsa.WSANO_RECOVERY) {
				t.Errorf("WSCInstallProvider on a refused file: %v, want WSANO_RECOVERY too", err)
			}
			check("WSCWriteProviderOrder", f.Catalog().WSCWriteProviderOrder([]uint32{1004, 1003, 1002, 1001}))
			// The bound catalog keeps the last good content.
			if n := len(f.Catalog().Entries()); n != 4 {
				t.Errorf("catalog has %d entries, want the 4 it had", n)
			}
			// Quarantine moves it aside, bytes intact; then it can be made anew.
			moved, err := Quarantine(path)
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := os.ReadFile(moved); !bytes.Equal(got, b) {
				t.Error("the quarantined file's bytes changed")
			}
			if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
				t.Error("Quarantine left the file")
			}
			if _, err := Open(path, nil, Options{Create: true, Defaults: defaults}); err != nil {
				t.Errorf("Open after Quarantine: %v", err)
			}
			if _, err := Quarantine(path); err == nil {
				t.Error("Quarantine moved a valid file")
			}
		})
	}
}

// TestEveryPrefixOnDisk truncates a real file at every length and checks
// that Open and a change refuse it and leave it alone.
func TestEveryPrefixOnDisk(t *testing.T) {
	path := tempPath(t)
	f := open(t, path, Options{Create: true})
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	step := 1
	if testing.Short() {
		step = 37
	}
	for n := 0; n < len(good); n += step {
		if err := os.WriteFile(path, good[:n], 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Open(path, nil, Options{}); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("Open of a %d-byte prefix: %v", n, err)
		}
		if err := f.Catalog().WSCDeinstallProvider(guidBase); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("change of a %d-byte prefix: %v", n, err)
		}
		if got, _ := os.ReadFile(path); !bytes.Equal(got, good[:n]) {
			t.Fatalf("%d-byte prefix was changed", n)
		}
	}
}

// The helper process of TestConcurrentWriters: it installs providers into
// the file named by the environment, through its own File.
const (
	helperPathEnv   = "WS2_CATALOGFILE_HELPER_PATH"
	helperPrefixEnv = "WS2_CATALOGFILE_HELPER_PREFIX"
	installsPerSide = 20
)

func TestHelperInstaller(t *testing.T) {
	path := os.Getenv(helperPathEnv)
	if path == "" {
		t.Skip("helper process for TestConcurrentWriters")
	}
	prefix, _ := strconv.Atoi(os.Getenv(helperPrefixEnv))
	f, err := Open(path, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	installMany(t, f.Catalog(), uint32(prefix))
}

// installMany installs installsPerSide providers with GUIDs {prefix, i}.
func installMany(t testing.TB, c *provider.Catalog, prefix uint32) {
	for i := range installsPerSide {
		g := wsa.GUID{Data1: prefix, Data2: uint16(i + 1)}
		name := fmt.Sprintf("writer %d #%d", prefix, i)
		if err := c.WSCInstallProvider(g, "p", []wsa.ProtocolInfo{base(name, 2, 1, 6)}); err != nil {
			t.Errorf("install %s: %v", name, err)
			return
		}
	}
}

// TestConcurrentWriters: writers in goroutines, each with its own File and
// catalog, and writers in other processes install providers at the same
// time; every install ends up in the file, with distinct ids, and each
// bound catalog catches up.
func TestConcurrentWriters(t *testing.T) {
	path := tempPath(t)
	open(t, path, Options{Create: true})

	const goroutines, processes = 3, 2
	var wg sync.WaitGroup
	files := make([]*File, goroutines)
	for i := range goroutines {
		files[i] = open(t, path, Options{Watch: i == 0})
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	errs := make(chan error, processes)
	for p := range processes {
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestHelperInstaller$", "-test.count=1")
		cmd.Env = append(os.Environ(), helperPathEnv+"="+path, fmt.Sprintf("%s=%d", helperPrefixEnv, 100+p))
		wg.Go(func() {
			out, err := cmd.CombinedOutput()
			if err != nil {
				err = fmt.Errorf("helper %d: %v\n%s", p, err, out)
			}
			errs <- err
		})
	}
	for i, f := range files {
		wg.Go(func() { installMany(t, f.Catalog(), uint32(i+1)) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}

	s, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	total := 4 + (goroutines+processes)*installsPerSide
	if len(s.Entries) != total {
		t.Fatalf("%d entries in the file, want %d", len(s.Entries), total)
	}
	seenID := map[uint32]bool{}
	seenGUID := map[wsa.GUID]bool{}
	for _, e := range s.Entries {
		seenID[e.Info.CatalogEntryId] = true
		seenGUID[e.Info.ProviderId] = true
	}
	if len(seenID) != total || len(seenGUID) != 2+(goroutines+processes)*installsPerSide {
		t.Errorf("%d distinct ids, %d distinct providers", len(seenID), len(seenGUID))
	}
	if s.NextID != uint32(provider.FirstCatalogEntryID+total) {
		t.Errorf("next id %d, want %d", s.NextID, provider.FirstCatalogEntryID+total)
	}
	if want := uint64(1 + (goroutines+processes)*installsPerSide); s.Serial != want {
		t.Errorf("serial %d, want %d (one per write)", s.Serial, want)
	}
	// The watching File follows the other writers by itself; the others
	// catch up at Reload.
	deadline := time.Now().Add(testTimeout)
	for files[0].Serial() != s.Serial && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if files[0].Serial() != s.Serial || !reflect.DeepEqual(files[0].Catalog().State(), s.State) {
		t.Errorf("watching catalog at serial %d, want %d", files[0].Serial(), s.Serial)
	}
	for _, f := range files[1:] {
		if err := f.Reload(); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(f.Catalog().State(), s.State) {
			t.Error("catalog differs from the file after Reload")
		}
	}
}

// TestWatchNotifies: a change through one File reaches a catalog bound by
// another File with Watch, and fires its Changed channel (what
// WSAProviderConfigChange waits on).
func TestWatchNotifies(t *testing.T) {
	path := tempPath(t)
	a := open(t, path, Options{Create: true})
	var werrs []error
	var mu sync.Mutex
	b := open(t, path, Options{Watch: true, WatchError: func(err error) {
		mu.Lock()
		werrs = append(werrs, err)
		mu.Unlock()
	}})
	changes := []func() error{
		func() error {
			return a.Catalog().WSCInstallProvider(guidLayer, "x", []wsa.ProtocolInfo{base("x", 2, 1, 6)})
		},
		func() error { return a.Catalog().WSCWriteProviderOrder([]uint32{1005, 1001, 1002, 1003, 1004}) },
		func() error { return a.Catalog().WSCDeinstallProvider(guidLayer) },
		a.Reset,
	}
	for i, change := range changes {
		ch := b.Catalog().Changed()
		if err := change(); err != nil {
			t.Fatal(err)
		}
		select {
		case <-ch:
		case <-time.After(testTimeout):
			t.Fatalf("change %d: the watching catalog was not notified", i)
		}
		if !reflect.DeepEqual(b.Catalog().State(), a.Catalog().State()) {
			t.Errorf("change %d: catalogs differ", i)
		}
	}
	// A corrupt write is reported and the catalog keeps its content.
	ch := b.Catalog().Changed()
	before := b.Catalog().State()
	if err := os.WriteFile(path, []byte("broken"), 0o644); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(testTimeout)
	for {
		mu.Lock()
		n := len(werrs)
		mu.Unlock()
		if n > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	mu.Lock()
	if len(werrs) == 0 || !errors.Is(werrs[0], ErrCorrupt) {
		t.Errorf("watch errors %v, want ErrCorrupt", werrs)
	}
	mu.Unlock()
	select {
	case <-ch:
		t.Error("a corrupt file changed the catalog")
	default:
	}
	if !reflect.DeepEqual(b.Catalog().State(), before) {
		t.Error("the catalog lost its content")
	}
}

// TestSaveWithoutLockersMerge: Save replaces; two Files merge.
func TestUpdateMultiStep(t *testing.T) {
	path := tempPath(t)
	f := open(t, path, Options{Create: true})
	ch := f.Catalog().Changed()
	err := f.Update(func(c *provider.Catalog) error {
		if err := c.WSCInstallProvider(guidLayer, "x", []wsa.ProtocolInfo{base("x", 2, 1, 6)}); err != nil {
			return err
		}
		return c.WSCWriteProviderOrder([]uint32{1005, 1001, 1002, 1003, 1004})
	})
	if err != nil {
		t.Fatal(err)
	}
	<-ch
	if s, _ := Read(path); s.Serial != 2 || s.Entries[0].Info.CatalogEntryId != 1005 {
		t.Errorf("one write of serial 2 with 1005 first; got serial %d", s.Serial)
	}
	// A failing step writes nothing.
	boom := errors.New("boom")
	err = f.Update(func(c *provider.Catalog) error {
		if err := c.WSCDeinstallProvider(guidLayer); err != nil {
			return err
		}
		return boom
	})
	if err != boom {
		t.Fatalf("Update = %v, want boom", err)
	}
	if s, _ := Read(path); s.Serial != 2 || len(s.Entries) != 5 {
		t.Errorf("a failed Update wrote the file")
	}
}

// TestWriteKeepsModeAndOwner: a change keeps the file's permissions and
// (when run as root) its owner.
func TestWriteKeepsModeAndOwner(t *testing.T) {
	path := tempPath(t)
	f := open(t, path, Options{Create: true})
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	root := os.Geteuid() == 0
	if root {
		if err := os.Chown(path, 65534, 65534); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Catalog().WSCWriteProviderOrder([]uint32{1004, 1003, 1002, 1001}); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want 0640", fi.Mode().Perm())
	}
	if st := fi.Sys().(*syscall.Stat_t); root && (st.Uid != 65534 || st.Gid != 65534) {
		t.Errorf("owner %d:%d, want 65534:65534", st.Uid, st.Gid)
	}
}
