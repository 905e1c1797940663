package provider

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/ws2go/ws2/wsa"
)

// fakeBase is a base provider that records its starts and makes handles
// through the upcalls; routines it does not override panic (nil embedded
// table), which the tests never reach.
type fakeBase struct {
	ProcTable
	mu      sync.Mutex
	starts  []wsa.ProtocolInfo
	cleanup int
	sockets []wsa.ProtocolInfo
	up      UpcallTable
}

func (b *fakeBase) startup(v uint16, info *wsa.ProtocolInfo, up UpcallTable) (WSPData, ProcTable, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.starts = append(b.starts, *info)
	b.up = up
	return WSPData{Version: wsa.WINSOCK_VERSION, HighVersion: wsa.WINSOCK_VERSION}, b, nil
}

func (b *fakeBase) WSPSocket(af, typ, protocol int32, info *wsa.ProtocolInfo, g uint32, flags uint32) (wsa.Socket, error) {
	b.mu.Lock()
	b.sockets = append(b.sockets, *info)
	up := b.up
	b.mu.Unlock()
	return up.WPUCreateSocketHandle(info.CatalogEntryId, "base")
}

func (b *fakeBase) WSPCloseSocket(s wsa.Socket) error { return b.up.WPUCloseSocketHandle(s) }

func (b *fakeBase) WSPCleanup() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.cleanup++
	return nil
}

// fakeUp is a minimal upcall table: handles with their catalog ids.
type fakeUp struct {
	UpcallTable
	mu   sync.Mutex
	next wsa.Socket
	ids  map[wsa.Socket]uint32
}

func newFakeUp() *fakeUp { return &fakeUp{next: 0x100, ids: map[wsa.Socket]uint32{}} }

func (u *fakeUp) WPUCreateSocketHandle(id uint32, _ any) (wsa.Socket, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.next += 4
	u.ids[u.next] = id
	return u.next, nil
}

func (u *fakeUp) WPUModifyIFSHandle(id uint32, s wsa.Socket) (wsa.Socket, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if _, ok := u.ids[s]; !ok {
		return wsa.INVALID_SOCKET, wsa.WSAEINVAL
	}
	u.ids[s] = id
	return s, nil
}

func (u *fakeUp) WPUCloseSocketHandle(s wsa.Socket) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	delete(u.ids, s)
	return nil
}

func (u *fakeUp) id(s wsa.Socket) uint32 {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.ids[s]
}

// layerEnv is msafd (1001 TCP/IP, 1002 UDP/IP, 1003 RAW/IP, 1004 TCP/IPv6,
// 1005 UDP/IPv6) with fake base providers under paths "a" and "b".
func layerEnv(t *testing.T) (*Catalog, *fakeBase, *fakeBase) {
	t.Helper()
	c := msafd(t)
	a, b := &fakeBase{}, &fakeBase{}
	if err := c.Registry().Register("a", a.startup); err != nil {
		t.Fatal(err)
	}
	if err := c.Registry().Register("b", b.startup); err != nil {
		t.Fatal(err)
	}
	return c, a, b
}

func plain(c *Catalog, id wsa.GUID, path string) *Layer {
	l := &Layer{Catalog: c, ID: id, Description: path}
	_ = c.Registry().Register(path, l.Startup)
	return l
}

func ids(ps []wsa.ProtocolInfo) []uint32 {
	var out []uint32
	for _, p := range ps {
		out = append(out, p.CatalogEntryId)
	}
	return out
}

func TestInstallLayer(t *testing.T) {
	c, _, _ := layerEnv(t)
	guidC := wsa.GUID{Data1: 0x1c}
	plain(c, guidL, "lsp")
	if err := InstallLayer(c, guidL, guidC, "lsp", "LSP", []uint32{1001, 1004}); err != nil {
		t.Fatal(err)
	}
	all := c.WSCEnumProtocols(nil)
	// Chains first, in the order given, then the rest in their order; the
	// layer entry (1006) is last and hidden.
	if got, want := ids(all), []uint32{1007, 1008, 1001, 1002, 1003, 1004, 1005, 1006}; !equal(got, want) {
		t.Fatalf("order %v, want %v", got, want)
	}
	layer := all[7]
	if !layer.IsLayered() || layer.ProviderId != guidL || layer.ProviderFlags&wsa.PFL_HIDDEN == 0 || layer.ProtocolName != "LSP" {
		t.Errorf("layer entry %+v", layer)
	}
	for i, base := range []uint32{1001, 1004} {
		ch := all[i]
		b, _ := c.ByID(base)
		if ch.ProviderId != guidC || ch.ProtocolChain.ChainLen != 2 || ch.ProtocolChain.ChainEntries[0] != 1006 || ch.ProtocolChain.ChainEntries[1] != base {
			t.Errorf("chain %d: %+v", i, ch)
		}
		if ch.ProtocolName != "LSP over ["+b.Info.ProtocolName+"]" || ch.AddressFamily != b.Info.AddressFamily || ch.ServiceFlags1 != b.Info.ServiceFlags1 {
			t.Errorf("chain %d: %q %+v", i, ch.ProtocolName, ch)
		}
		if p, _ := c.WSCGetProviderPath(guidC); p != "lsp" {
			t.Errorf("chain path %q", p)
		}
	}
	// WSAEnumProtocols hides the layer; socket() picks the chain.
	if n := len(c.WSAEnumProtocols(nil)); n != 7 {
		t.Errorf("WSAEnumProtocols: %d entries", n)
	}
	if e, _, _, _, err := c.Select(wsa.AF_INET, wsa.SOCK_STREAM, 0, nil, 0); err != nil || e.Info.CatalogEntryId != 1007 {
		t.Errorf("Select TCP/IP: %d %v", e.Info.CatalogEntryId, err)
	}
	if e, _, _, _, err := c.Select(wsa.AF_INET, wsa.SOCK_DGRAM, 0, nil, 0); err != nil || e.Info.CatalogEntryId != 1002 {
		t.Errorf("Select UDP/IP: %d %v", e.Info.CatalogEntryId, err)
	}
	if p := ChainPosition(&all[0], 1006); p != 0 {
		t.Errorf("ChainPosition %d", p)
	}
	if p := ChainPosition(&all[2], 1006); p != -1 {
		t.Errorf("ChainPosition in a base entry %d", p)
	}
	if err := RemoveLayer(c, guidL, guidC); err != nil {
		t.Fatal(err)
	}
	if got := ids(c.WSCEnumProtocols(nil)); !equal(got, []uint32{1001, 1002, 1003, 1004, 1005}) {
		t.Errorf("after RemoveLayer: %v", got)
	}
	if err := RemoveLayer(c, guidL, guidC); !errors.Is(err, wsa.WSAEINVAL) {
		t.Errorf("second RemoveLayer: %v", err)
	}
}

func equal(a, b []uint32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestInstallLayerErrors(t *testing.T) {
	c, _, _ := layerEnv(t)
	g1, g2 := wsa.GUID{Data1: 0x51}, wsa.GUID{Data1: 0x52}
	n := len(c.WSCEnumProtocols(nil))
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"nil catalog", InstallLayer(nil, g1, g2, "p", "n", []uint32{1001})},
		{"no path", InstallLayer(c, g1, g2, "", "n", []uint32{1001})},
		{"no name", InstallLayer(c, g1, g2, "p", "", []uint32{1001})},
		{"no entries", InstallLayer(c, g1, g2, "p", "n", nil)},
		{"same GUIDs", InstallLayer(c, g1, g1, "p", "n", []uint32{1001})},
		{"unknown id", InstallLayer(c, g1, g2, "p", "n", []uint32{4242})},
		{"repeated id", InstallLayer(c, g1, g2, "p", "n", []uint32{1001, 1001})},
		{"installed GUID", InstallLayer(c, guidA, g2, "p", "n", []uint32{1001})},
		{"installed chain GUID", InstallLayer(c, g1, guidA, "p", "n", []uint32{1001})},
	} {
		if !errors.Is(tc.err, wsa.WSAEINVAL) {
			t.Errorf("%s: %v, want WSAEINVAL", tc.name, tc.err)
		}
	}
	if m := len(c.WSCEnumProtocols(nil)); m != n {
		t.Errorf("%d entries after failed installs, want %d", m, n)
	}
	// Over a layer entry.
	if err := InstallLayer(c, g1, g2, "p", "n", []uint32{1001}); err != nil {
		t.Fatal(err)
	}
	layer, _ := LayerEntryID(c, g1)
	if err := InstallLayer(c, wsa.GUID{Data1: 0x61}, wsa.GUID{Data1: 0x62}, "q", "n", []uint32{layer}); !errors.Is(err, wsa.WSAEINVAL) {
		t.Errorf("over a layer entry: %v", err)
	}
	// A long name is cut to WSAPROTOCOL_LEN.
	long := strings.Repeat("é", 300)
	if err := InstallLayer(c, wsa.GUID{Data1: 0x71}, wsa.GUID{Data1: 0x72}, "r", long, []uint32{1002}); err != nil {
		t.Fatal(err)
	}
	id, _ := LayerEntryID(c, wsa.GUID{Data1: 0x71})
	if e, _ := c.ByID(id); len([]rune(e.Info.ProtocolName)) != wsa.WSAPROTOCOL_LEN {
		t.Errorf("layer name of %d characters", len([]rune(e.Info.ProtocolName)))
	}
}

// TestMaxProtocolChain stacks layers until the chain is full: a chain holds
// at most MAX_PROTOCOL_CHAIN (7) entries, base included.
func TestMaxProtocolChain(t *testing.T) {
	c, a, _ := layerEnv(t)
	over := []uint32{1001}
	for i := range wsa.MAX_PROTOCOL_CHAIN - 1 {
		lg, cg := wsa.GUID{Data1: 0x100 + uint32(i)}, wsa.GUID{Data1: 0x200 + uint32(i)}
		path := "l" + string(rune('0'+i))
		plain(c, lg, path)
		if err := InstallLayer(c, lg, cg, path, path, over); err != nil {
			t.Fatalf("layer %d: %v", i+1, err)
		}
		top := c.WSCEnumProtocols(nil)[0]
		if top.ProviderId != cg || top.ProtocolChain.ChainLen != int32(i+2) {
			t.Fatalf("layer %d: top entry %+v", i+1, top)
		}
		over = []uint32{top.CatalogEntryId}
	}
	if err := InstallLayer(c, wsa.GUID{Data1: 0x1ff}, wsa.GUID{Data1: 0x2ff}, "l8", "l8", over); !errors.Is(err, wsa.WSAEINVAL) {
		t.Fatalf("an eighth entry: %v, want WSAEINVAL", err)
	}
	// A socket on the full chain goes through six layers to the base,
	// which sees its own entry.
	top := c.WSCEnumProtocols(nil)[0]
	e, _ := c.ByID(top.CatalogEntryId)
	start, _ := c.Registry().Lookup(e.Path)
	up := newFakeUp()
	_, procs, err := start(wsa.WINSOCK_VERSION, &top, up)
	if err != nil {
		t.Fatal(err)
	}
	s, err := procs.WSPSocket(wsa.AF_INET, wsa.SOCK_STREAM, 0, &top, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.starts) != 1 || a.starts[0].CatalogEntryId != 1001 || !a.starts[0].IsBase() {
		t.Errorf("base started %d times, with %+v", len(a.starts), a.starts)
	}
	if len(a.sockets) != 1 || a.sockets[0].CatalogEntryId != 1001 {
		t.Errorf("base WSPSocket with %+v", a.sockets)
	}
	if up.id(s) != top.CatalogEntryId {
		t.Errorf("handle tagged %d, want the chain entry %d", up.id(s), top.CatalogEntryId)
	}
	b := make([]byte, wsa.SizeofProtocolInfo)
	if _, err := procs.WSPGetSockOpt(s, wsa.SOL_SOCKET, wsa.SO_PROTOCOL_INFOW, b); err != nil {
		t.Fatal(err)
	}
	if got, _ := wsa.UnmarshalProtocolInfo(b); got != top {
		t.Errorf("SO_PROTOCOL_INFOW %+v, want the chain entry", got)
	}
	if err := procs.WSPCloseSocket(s); err != nil {
		t.Fatal(err)
	}
	if err := procs.WSPCleanup(); err != nil {
		t.Fatal(err)
	}
	if a.cleanup != 1 {
		t.Errorf("base cleaned up %d times", a.cleanup)
	}
	if err := procs.WSPCleanup(); !errors.Is(err, wsa.WSANOTINITIALISED) {
		t.Errorf("second WSPCleanup: %v", err)
	}
}

// spy is a layer that records the protocol info its WSPStartup gets.
type spy struct {
	mu    sync.Mutex
	infos []wsa.ProtocolInfo
	l     *Layer
}

func (s *spy) startup(v uint16, info *wsa.ProtocolInfo, up UpcallTable) (WSPData, ProcTable, error) {
	s.mu.Lock()
	s.infos = append(s.infos, *info)
	s.mu.Unlock()
	return s.l.Startup(v, info, up)
}

// TestLayerStartup checks how a layer finds its position and the next
// provider: a layer gets the chain entry unchanged, the base its own entry;
// each next provider is started once per instance and provider id, however
// many chains go through it.
func TestLayerStartup(t *testing.T) {
	c, a, b := layerEnv(t)
	l1, c1 := wsa.GUID{Data1: 0x301}, wsa.GUID{Data1: 0x302}
	l2, c2 := wsa.GUID{Data1: 0x401}, wsa.GUID{Data1: 0x402}
	lower := &spy{l: &Layer{Catalog: c, ID: l1}}
	_ = c.Registry().Register("lower", lower.startup)
	plain(c, l2, "upper")
	// l1 over TCP/IP (a) and TCP/IPv6 (b), l2 over both chains.
	if err := InstallLayer(c, l1, c1, "lower", "L1", []uint32{1001, 1004}); err != nil {
		t.Fatal(err)
	}
	var chains1 []uint32
	for _, p := range c.WSCEnumProtocols(nil) {
		if p.ProviderId == c1 {
			chains1 = append(chains1, p.CatalogEntryId)
		}
	}
	if err := InstallLayer(c, l2, c2, "upper", "L2", chains1); err != nil {
		t.Fatal(err)
	}
	top := c.WSCEnumProtocols(nil)[:2] // the two depth-2 chains
	for _, p := range top {
		if p.ProviderId != c2 || p.ProtocolChain.ChainLen != 3 {
			t.Fatalf("top entries %+v", top)
		}
	}
	up := newFakeUp()
	e, _ := c.ByID(top[0].CatalogEntryId)
	start, _ := c.Registry().Lookup(e.Path)
	_, procs, err := start(wsa.WINSOCK_VERSION, &top[0], up)
	if err != nil {
		t.Fatal(err)
	}
	// Startup started L1 with the chain entry, unchanged, and L1 started
	// base a with a's own entry.
	if len(lower.infos) != 1 || lower.infos[0] != top[0] {
		t.Fatalf("L1 started with %+v", lower.infos)
	}
	if len(a.starts) != 1 || a.starts[0].CatalogEntryId != 1001 || len(b.starts) != 0 {
		t.Fatalf("bases started: a %+v b %+v", a.starts, b.starts)
	}
	// Sockets of both chains, twice: b is started once, on first use; L1
	// once (one instance, one provider id).
	for range 2 {
		for _, p := range top {
			info := p
			s, err := procs.WSPSocket(wsa.FROM_PROTOCOL_INFO, wsa.FROM_PROTOCOL_INFO, wsa.FROM_PROTOCOL_INFO, &info, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			if up.id(s) != p.CatalogEntryId {
				t.Errorf("socket of %d tagged %d", p.CatalogEntryId, up.id(s))
			}
		}
	}
	if len(lower.infos) != 1 || len(a.starts) != 1 || len(b.starts) != 1 || b.starts[0].CatalogEntryId != 1004 {
		t.Errorf("starts: L1 %d, a %d, b %+v", len(lower.infos), len(a.starts), b.starts)
	}
	if len(a.sockets) != 2 || len(b.sockets) != 2 || a.sockets[0].CatalogEntryId != 1001 || b.sockets[0].CatalogEntryId != 1004 {
		t.Errorf("base sockets: a %+v b %+v", a.sockets, b.sockets)
	}
	if err := procs.WSPCleanup(); err != nil {
		t.Fatal(err)
	}
	if a.cleanup != 1 || b.cleanup != 1 {
		t.Errorf("cleanups: a %d b %d", a.cleanup, b.cleanup)
	}
}

func TestLayerStartupErrors(t *testing.T) {
	c, _, _ := layerEnv(t)
	lg, cg := wsa.GUID{Data1: 0x501}, wsa.GUID{Data1: 0x502}
	l := plain(c, lg, "lsp")
	if err := InstallLayer(c, lg, cg, "lsp", "L", []uint32{1001}); err != nil {
		t.Fatal(err)
	}
	chain := c.WSCEnumProtocols(nil)[0]
	up := newFakeUp()
	base, _ := c.ByID(1002)
	for _, tc := range []struct {
		name    string
		version uint16
		info    *wsa.ProtocolInfo
		layer   *Layer
		want    error
	}{
		{"version 2.0", wsa.MAKEWORD(2, 0), &chain, l, wsa.WSAVERNOTSUPPORTED},
		{"no info", wsa.WINSOCK_VERSION, nil, l, wsa.WSAEFAULT},
		{"a base entry", wsa.WINSOCK_VERSION, &base.Info, l, wsa.WSAEPROVIDERFAILEDINIT},
		{"not installed", wsa.WINSOCK_VERSION, &chain, &Layer{Catalog: c, ID: wsa.GUID{Data1: 0x999}}, wsa.WSAEPROVIDERFAILEDINIT},
		{"no catalog", wsa.WINSOCK_VERSION, &chain, &Layer{ID: lg}, wsa.WSAEPROVIDERFAILEDINIT},
	} {
		if _, _, err := tc.layer.Startup(tc.version, tc.info, up); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	// The next provider's path is not registered.
	c.Registry().Unregister("a")
	if _, _, err := l.Startup(wsa.WINSOCK_VERSION, &chain, up); !errors.Is(err, wsa.WSAEPROVIDERFAILEDINIT) {
		t.Errorf("unregistered base: %v", err)
	}
	// A nil table from New.
	_ = c.Registry().Register("a", (&fakeBase{}).startup)
	bad := &Layer{Catalog: c, ID: lg, New: func(*PassThrough) ProcTable { return nil }}
	if _, _, err := bad.Startup(wsa.WINSOCK_VERSION, &chain, up); !errors.Is(err, wsa.WSAEINVALIDPROCTABLE) {
		t.Errorf("nil table: %v", err)
	}
}
