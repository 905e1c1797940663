package providertest

import (
	"net/netip"
	"testing"

	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/wsa"
)

// CatalogHost is one host of a test before any provider is started: a
// catalog with a base provider registered in its registry and its entries
// installed (what netstack.Install does), and the host's addresses.
type CatalogHost struct {
	Catalog      *provider.Catalog
	Addr4, Addr6 netip.Addr
}

// LayerInstaller installs one layered provider in cat: it registers the
// layer's WSPStartup in cat.Registry() and installs it over the entries
// over with provider.InstallLayer (the Install helpers of provider/lsp/...
// do both).
type LayerInstaller func(cat *provider.Catalog, over []uint32) error

// ChainHarness runs the suite over protocol chains (spec §3.8): each host
// is a base provider with layered providers stacked on all its entries, and
// the suite's sockets are made on the top chain entries, so every call goes
// through every layer to the base and back. It works at the SPI level, as
// the rest of the suite: the top layer is started exactly as the api would
// start it — its WSPStartup, found through the catalog's registry under the
// chain entries' path, called once per provider id with the chain entry and
// a fake upcall table (Upcalls) — and the layers start the providers below
// them themselves.
type ChainHarness struct {
	Name string
	// Base makes the base of one (sub)test's hosts: fresh catalogs (and
	// stacks) each time; server and client may be the same (loopback). It
	// registers its own cleanup with t.
	Base func(t *testing.T) (server, client CatalogHost)
	// Layers are installed bottom first: the first over the base entries,
	// each next one over the chain entries the previous one installed. No
	// layers runs the suite on the bare base.
	Layers []LayerInstaller
	// Unroutable4 and Unroutable6 are as in Harness.
	Unroutable4, Unroutable6 netip.Addr
}

// Harness returns the Harness to give Run.
func (c ChainHarness) Harness() Harness {
	return Harness{
		Name: c.Name,
		New: func(t *testing.T) (Host, Host) {
			srv, cli := c.Base(t)
			s := c.Start(t, srv)
			if cli.Catalog == srv.Catalog {
				return s, s
			}
			return s, c.Start(t, cli)
		},
		Unroutable4: c.Unroutable4,
		Unroutable6: c.Unroutable6,
	}
}

// Start installs the layers on h's catalog (see Layers) and starts the top
// of the chain with a fresh Upcalls, as the api would; the Host's Protocols
// are the top chain entries. WSPCleanup runs at the end of the test.
func (c ChainHarness) Start(t *testing.T, h CatalogHost) Host {
	t.Helper()
	top := InstallChain(t, h.Catalog, c.Layers...)
	up := NewUpcalls()
	for _, e := range h.Catalog.Entries() {
		up.SetProviderPath(e.Info.ProviderId, e.Path)
	}
	var procs provider.ProcTable
	started := map[wsa.GUID]bool{}
	for _, p := range top {
		if started[p.ProviderId] {
			continue
		}
		if procs != nil {
			t.Fatalf("the top chain entries have several provider ids")
		}
		started[p.ProviderId] = true
		e, _ := h.Catalog.ByID(p.CatalogEntryId)
		start, ok := h.Catalog.Registry().Lookup(e.Path)
		if !ok {
			t.Fatalf("no provider registered under %q", e.Path)
		}
		info := p
		d, pt, err := start(wsa.WINSOCK_VERSION, &info, up)
		if err != nil {
			t.Fatalf("WSPStartup of %q: %v", e.Path, err)
		}
		if d.Version != wsa.WINSOCK_VERSION {
			t.Fatalf("WSPStartup of %q: version %#x", e.Path, d.Version)
		}
		procs = pt
		t.Cleanup(func() { _ = pt.WSPCleanup() })
	}
	return Host{Procs: procs, Protocols: top, Addr4: h.Addr4, Addr6: h.Addr6, Upcalls: up}
}

// InstallChain installs layers on cat, bottom first (see
// ChainHarness.Layers), and returns the entries the top layer installed: the
// chains sockets should be made on. Without layers it returns the base
// entries.
func InstallChain(t testing.TB, cat *provider.Catalog, layers ...LayerInstaller) []wsa.ProtocolInfo {
	t.Helper()
	var over []uint32
	for _, p := range cat.WSCEnumProtocols(nil) {
		if p.IsBase() {
			over = append(over, p.CatalogEntryId)
		}
	}
	for i, install := range layers {
		before := map[uint32]bool{}
		for _, p := range cat.WSCEnumProtocols(nil) {
			before[p.CatalogEntryId] = true
		}
		if err := install(cat, over); err != nil {
			t.Fatalf("installing layer %d: %v", i+1, err)
		}
		var next []uint32
		for _, p := range cat.WSCEnumProtocols(nil) {
			if !before[p.CatalogEntryId] && p.IsChain() {
				next = append(next, p.CatalogEntryId)
			}
		}
		if len(next) == 0 {
			t.Fatalf("layer %d installed no chain entries", i+1)
		}
		over = next
	}
	out := make([]wsa.ProtocolInfo, 0, len(over))
	for _, id := range over {
		e, ok := cat.ByID(id)
		if !ok {
			t.Fatalf("entry %d vanished", id)
		}
		out = append(out, e.Info)
	}
	return out
}
