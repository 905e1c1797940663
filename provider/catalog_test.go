package provider

import (
	"errors"
	"sync"
	"testing"

	"github.com/ws2go/ws2/wsa"
)

var (
	guidA = wsa.GUID{Data1: 0xa}
	guidB = wsa.GUID{Data1: 0xb}
	guidL = wsa.GUID{Data1: 0x1a}
)

func base(name string, af, typ, proto int32, pfl uint32) wsa.ProtocolInfo {
	return wsa.ProtocolInfo{
		ProviderFlags: pfl, AddressFamily: af, SocketType: typ, Protocol: proto,
		ProtocolChain: wsa.ProtocolChain{ChainLen: wsa.BASE_PROTOCOL}, ProtocolName: name,
	}
}

// msafd builds a catalog shaped like Windows': TCP, UDP, RAW over IPv4 then
// TCP, UDP over IPv6.
func msafd(t *testing.T) *Catalog {
	t.Helper()
	c := NewCatalog(NewRegistry())
	raw := base("RAW/IP", wsa.AF_INET, wsa.SOCK_RAW, 0, wsa.PFL_MATCHES_PROTOCOL_ZERO)
	raw.ProtocolMaxOffset = 255
	if err := c.WSCInstallProvider(guidA, "a", []wsa.ProtocolInfo{
		base("TCP/IP", wsa.AF_INET, wsa.SOCK_STREAM, wsa.IPPROTO_TCP, wsa.PFL_MATCHES_PROTOCOL_ZERO),
		base("UDP/IP", wsa.AF_INET, wsa.SOCK_DGRAM, wsa.IPPROTO_UDP, wsa.PFL_MATCHES_PROTOCOL_ZERO),
		raw,
	}); err != nil {
		t.Fatal(err)
	}
	if err := c.WSCInstallProvider(guidB, "b", []wsa.ProtocolInfo{
		base("TCP/IPv6", wsa.AF_INET6, wsa.SOCK_STREAM, wsa.IPPROTO_TCP, wsa.PFL_MATCHES_PROTOCOL_ZERO),
		base("UDP/IPv6", wsa.AF_INET6, wsa.SOCK_DGRAM, wsa.IPPROTO_UDP, 0),
	}); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestInstallAssignsIDs(t *testing.T) {
	c := msafd(t)
	got := c.WSCEnumProtocols(nil)
	want := []struct {
		id   uint32
		name string
		prov wsa.GUID
	}{{1001, "TCP/IP", guidA}, {1002, "UDP/IP", guidA}, {1003, "RAW/IP", guidA}, {1004, "TCP/IPv6", guidB}, {1005, "UDP/IPv6", guidB}}
	if len(got) != len(want) {
		t.Fatalf("got %d entries, want %d", len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.CatalogEntryId != w.id || g.ProtocolName != w.name || g.ProviderId != w.prov {
			t.Errorf("entry %d = (%d %q %v), want (%d %q %v)", i, g.CatalogEntryId, g.ProtocolName, g.ProviderId, w.id, w.name, w.prov)
		}
		if g.ProtocolChain.ChainEntries[0] != w.id {
			t.Errorf("entry %d: base chain entry %d, want own id %d", i, g.ProtocolChain.ChainEntries[0], w.id)
		}
	}
	if c.NextCatalogEntryID() != 1006 {
		t.Errorf("next id %d, want 1006", c.NextCatalogEntryID())
	}
}

func TestInstallErrors(t *testing.T) {
	c := msafd(t)
	long := base("", wsa.AF_INET, wsa.SOCK_STREAM, 6, 0)
	for i := 0; i < 256; i++ {
		long.ProtocolName += "x"
	}
	badChain := base("x", wsa.AF_INET, wsa.SOCK_STREAM, 6, 0)
	badChain.ProtocolChain.ChainLen = 8
	tests := []struct {
		name  string
		id    wsa.GUID
		path  string
		infos []wsa.ProtocolInfo
	}{
		{"empty path", wsa.GUID{Data1: 9}, "", []wsa.ProtocolInfo{base("x", 2, 1, 6, 0)}},
		{"no entries", wsa.GUID{Data1: 9}, "p", nil},
		{"duplicate provider", guidA, "p", []wsa.ProtocolInfo{base("x", 2, 1, 6, 0)}},
		{"name too long", wsa.GUID{Data1: 9}, "p", []wsa.ProtocolInfo{long}},
		{"chain too long", wsa.GUID{Data1: 9}, "p", []wsa.ProtocolInfo{badChain}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := c.Serial()
			if err := c.WSCInstallProvider(tt.id, tt.path, tt.infos); !errors.Is(err, wsa.WSAEINVAL) {
				t.Fatalf("err = %v, want WSAEINVAL", err)
			}
			if c.Serial() != before {
				t.Error("a refused install changed the catalog")
			}
		})
	}
}

func TestSelect(t *testing.T) {
	c := msafd(t)
	tests := []struct {
		name          string
		af, typ, prot int32
		wantID        uint32
		wantErr       error
	}{
		{"tcp4 protocol zero", wsa.AF_INET, wsa.SOCK_STREAM, 0, 1001, nil},
		{"tcp4 explicit", wsa.AF_INET, wsa.SOCK_STREAM, wsa.IPPROTO_TCP, 1001, nil},
		{"udp4", wsa.AF_INET, wsa.SOCK_DGRAM, 0, 1002, nil},
		{"raw4 in range", wsa.AF_INET, wsa.SOCK_RAW, wsa.IPPROTO_ICMP, 1003, nil},
		{"raw4 top of range", wsa.AF_INET, wsa.SOCK_RAW, 255, 1003, nil},
		{"raw4 out of range", wsa.AF_INET, wsa.SOCK_RAW, 256, 0, wsa.WSAEPROTONOSUPPORT},
		{"tcp6", wsa.AF_INET6, wsa.SOCK_STREAM, 0, 1004, nil},
		{"udp6 zero without PFL_MATCHES_PROTOCOL_ZERO", wsa.AF_INET6, wsa.SOCK_DGRAM, 0, 0, wsa.WSAEPROTONOSUPPORT},
		{"udp6 explicit", wsa.AF_INET6, wsa.SOCK_DGRAM, wsa.IPPROTO_UDP, 1005, nil},
		{"type wildcard", wsa.AF_INET6, 0, wsa.IPPROTO_UDP, 1005, nil},
		{"unknown family", wsa.AF_IRDA, wsa.SOCK_STREAM, 0, 0, wsa.WSAEAFNOSUPPORT},
		{"unknown type", wsa.AF_INET, wsa.SOCK_SEQPACKET, 0, 0, wsa.WSAESOCKTNOSUPPORT},
		{"wrong protocol for type", wsa.AF_INET, wsa.SOCK_STREAM, wsa.IPPROTO_UDP, 0, wsa.WSAEPROTONOSUPPORT},
		{"AF_UNSPEC with protocol", wsa.AF_UNSPEC, wsa.SOCK_DGRAM, wsa.IPPROTO_UDP, 1002, nil},
		{"AF_UNSPEC without protocol", wsa.AF_UNSPEC, wsa.SOCK_STREAM, 0, 0, wsa.WSAEINVAL},
		{"FROM_PROTOCOL_INFO without info", wsa.FROM_PROTOCOL_INFO, wsa.SOCK_STREAM, 0, 0, wsa.WSAEINVAL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, _, _, _, err := c.Select(tt.af, tt.typ, tt.prot, nil, 0)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if e.Info.CatalogEntryId != tt.wantID {
				t.Fatalf("selected %d (%s), want %d", e.Info.CatalogEntryId, e.Info.ProtocolName, tt.wantID)
			}
		})
	}
}

func TestSelectFollowsOrderAndSkipsLayers(t *testing.T) {
	c := msafd(t)
	// A layer entry for TCP must never be selected.
	layer := base("layer", wsa.AF_INET, wsa.SOCK_STREAM, wsa.IPPROTO_TCP, wsa.PFL_MATCHES_PROTOCOL_ZERO|wsa.PFL_HIDDEN)
	layer.ProtocolChain.ChainLen = wsa.LAYERED_PROTOCOL
	if err := c.WSCInstallProvider(guidL, "lsp", []wsa.ProtocolInfo{layer}); err != nil {
		t.Fatal(err)
	}
	order := []uint32{1006, 1001, 1002, 1003, 1004, 1005}
	if err := c.WSCWriteProviderOrder(order); err != nil {
		t.Fatal(err)
	}
	e, _, _, _, err := c.Select(wsa.AF_INET, wsa.SOCK_STREAM, 0, nil, 0)
	if err != nil || e.Info.CatalogEntryId != 1001 {
		t.Fatalf("Select = %d, %v; want 1001 (layer skipped)", e.Info.CatalogEntryId, err)
	}
	// A chain over TCP/IP placed first wins.
	chain := base("chain", wsa.AF_INET, wsa.SOCK_STREAM, wsa.IPPROTO_TCP, wsa.PFL_MATCHES_PROTOCOL_ZERO)
	chain.ProtocolChain = wsa.ProtocolChain{ChainLen: 2, ChainEntries: [7]uint32{1006, 1001}}
	if err := c.WSCInstallProvider(wsa.GUID{Data1: 0xc}, "lsp", []wsa.ProtocolInfo{chain}); err != nil {
		t.Fatal(err)
	}
	if err := c.WSCWriteProviderOrder([]uint32{1007, 1006, 1001, 1002, 1003, 1004, 1005}); err != nil {
		t.Fatal(err)
	}
	e, _, _, _, err = c.Select(wsa.AF_INET, wsa.SOCK_STREAM, 0, nil, 0)
	if err != nil || e.Info.CatalogEntryId != 1007 {
		t.Fatalf("Select = %d, %v; want chain 1007", e.Info.CatalogEntryId, err)
	}
}

func TestSelectWithProtocolInfo(t *testing.T) {
	c := msafd(t)
	udp, _ := c.ByID(1002)
	e, af, typ, proto, err := c.Select(wsa.FROM_PROTOCOL_INFO, wsa.FROM_PROTOCOL_INFO, wsa.FROM_PROTOCOL_INFO, &udp.Info, 0)
	if err != nil || e.Info.CatalogEntryId != 1002 || af != wsa.AF_INET || typ != wsa.SOCK_DGRAM || proto != wsa.IPPROTO_UDP {
		t.Fatalf("Select = %d (%d,%d,%d), %v", e.Info.CatalogEntryId, af, typ, proto, err)
	}
	missing := udp.Info
	missing.CatalogEntryId = 4242
	if _, _, _, _, err := c.Select(wsa.FROM_PROTOCOL_INFO, 0, 0, &missing, 0); !errors.Is(err, wsa.WSAEINVAL) {
		t.Fatalf("unknown entry: %v, want WSAEINVAL", err)
	}
	if _, _, _, _, err := c.Select(wsa.AF_INET, wsa.SOCK_STREAM, 0, nil, 1); !errors.Is(err, wsa.WSAEINVAL) {
		t.Fatalf("group: %v, want WSAEINVAL", err)
	}
}

func TestWriteProviderOrderErrors(t *testing.T) {
	c := msafd(t)
	for _, ids := range [][]uint32{
		{1001, 1002, 1003, 1004},             // too few
		{1001, 1002, 1003, 1004, 1005, 1006}, // too many
		{1001, 1002, 1003, 1004, 1004},       // repeated
		{1001, 1002, 1003, 1004, 9999},       // unknown
	} {
		if err := c.WSCWriteProviderOrder(ids); !errors.Is(err, wsa.WSAEINVAL) {
			t.Errorf("order %v: %v, want WSAEINVAL", ids, err)
		}
	}
	if got := c.WSCEnumProtocols(nil)[0].CatalogEntryId; got != 1001 {
		t.Errorf("refused orders changed the catalog: first is %d", got)
	}
	if err := c.WSCWriteProviderOrder([]uint32{1005, 1004, 1003, 1002, 1001}); err != nil {
		t.Fatal(err)
	}
	if got := c.WSCEnumProtocols(nil)[0].CatalogEntryId; got != 1005 {
		t.Errorf("first after reorder is %d, want 1005", got)
	}
}

func TestEnumFilterAndHidden(t *testing.T) {
	c := msafd(t)
	hidden := base("hidden", wsa.AF_INET, wsa.SOCK_STREAM, wsa.IPPROTO_TCP, wsa.PFL_HIDDEN)
	if err := c.WSCInstallProvider(guidL, "h", []wsa.ProtocolInfo{hidden}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		filter   []int32
		wsc, wsa int
	}{
		{nil, 6, 5},
		{[]int32{wsa.IPPROTO_TCP}, 4, 3}, // TCP/IP, RAW/IP (0..255), TCP/IPv6, hidden
		{[]int32{wsa.IPPROTO_UDP, wsa.IPPROTO_TCP}, 6, 5},
		{[]int32{wsa.IPPROTO_ICMP}, 1, 1}, // RAW's range 0..255
		{[]int32{300}, 0, 0},
	}
	for _, tt := range tests {
		if got := len(c.WSCEnumProtocols(tt.filter)); got != tt.wsc {
			t.Errorf("WSCEnumProtocols(%v) = %d entries, want %d", tt.filter, got, tt.wsc)
		}
		if got := len(c.WSAEnumProtocols(tt.filter)); got != tt.wsa {
			t.Errorf("WSAEnumProtocols(%v) = %d entries, want %d", tt.filter, got, tt.wsa)
		}
	}
}

func TestDeinstallUpdatePath(t *testing.T) {
	c := msafd(t)
	if p, err := c.WSCGetProviderPath(guidB); err != nil || p != "b" {
		t.Fatalf("path = %q, %v", p, err)
	}
	upd := []wsa.ProtocolInfo{
		base("TCP6 v2", wsa.AF_INET6, wsa.SOCK_STREAM, wsa.IPPROTO_TCP, 0),
		base("UDP6 v2", wsa.AF_INET6, wsa.SOCK_DGRAM, wsa.IPPROTO_UDP, 0),
	}
	if err := c.WSCUpdateProvider(guidB, "b2", upd); err != nil {
		t.Fatal(err)
	}
	e, ok := c.ByID(1004)
	if !ok || e.Info.ProtocolName != "TCP6 v2" || e.Path != "b2" {
		t.Fatalf("after update: %+v %v", e, ok)
	}
	if got := c.WSCEnumProtocols(nil)[3].CatalogEntryId; got != 1004 {
		t.Errorf("update moved the entry: position 3 holds %d", got)
	}
	if err := c.WSCUpdateProvider(guidB, "b2", upd[:1]); !errors.Is(err, wsa.WSAEINVAL) {
		t.Errorf("update with wrong count: %v, want WSAEINVAL", err)
	}
	if err := c.WSCDeinstallProvider(guidA); err != nil {
		t.Fatal(err)
	}
	if n := len(c.WSCEnumProtocols(nil)); n != 2 {
		t.Errorf("%d entries after deinstall, want 2", n)
	}
	if err := c.WSCDeinstallProvider(guidA); !errors.Is(err, wsa.WSAEINVAL) {
		t.Errorf("second deinstall: %v, want WSAEINVAL", err)
	}
	if _, err := c.WSCGetProviderPath(guidA); !errors.Is(err, wsa.WSAEINVAL) {
		t.Errorf("path of removed provider: %v, want WSAEINVAL", err)
	}
}

func TestChangedNotifies(t *testing.T) {
	c := msafd(t)
	ch := c.Changed()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		<-ch
	}()
	if err := c.WSCWriteProviderOrder([]uint32{1002, 1001, 1003, 1004, 1005}); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	select {
	case <-c.Changed():
		t.Fatal("new change channel already closed")
	default:
	}
}

func TestRegistry(t *testing.T) {
	r := NewRegistry()
	fn := func(uint16, *wsa.ProtocolInfo, UpcallTable) (WSPData, ProcTable, error) { return WSPData{}, nil, nil }
	if err := r.Register("p", fn); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		path string
		fn   StartupFunc
	}{{"p", fn}, {"", fn}, {"q", nil}} {
		if err := r.Register(tt.path, tt.fn); !errors.Is(err, wsa.WSAEINVAL) {
			t.Errorf("Register(%q) = %v, want WSAEINVAL", tt.path, err)
		}
	}
	if _, ok := r.Lookup("p"); !ok {
		t.Error("registered path not found")
	}
	if !r.Unregister("p") || r.Unregister("p") {
		t.Error("Unregister results wrong")
	}
}
