package lsp_test

import (
	"net/netip"
	"testing"

	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/provider/host"
	"github.com/ws2go/ws2/provider/netstack"
	"github.com/ws2go/ws2/provider/providertest"
	"github.com/ws2go/ws2/stack"
)

var (
	lo4 = netip.MustParseAddr("127.0.0.1")
	lo6 = netip.MustParseAddr("::1")
	p4a = netip.MustParseAddr("198.18.0.1")
	p4b = netip.MustParseAddr("198.18.0.2")
	p6a = netip.MustParseAddr("2001:db8::1")
	p6b = netip.MustParseAddr("2001:db8::2")

	unroutable4 = netip.MustParseAddr("203.0.113.1")
	unroutable6 = netip.MustParseAddr("2001:db8:dead::1")
)

func newStack(t testing.TB) *stack.Stack {
	t.Helper()
	st, err := stack.New(stack.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	return st
}

// netstackCatalog installs the netstack provider for st in a fresh catalog.
func netstackCatalog(t testing.TB, st *stack.Stack) *provider.Catalog {
	t.Helper()
	cat := provider.NewCatalog(provider.NewRegistry())
	if err := netstack.Install(cat, netstack.DefaultPath, st); err != nil {
		t.Fatal(err)
	}
	return cat
}

// loopbackBase is one host on a loopback stack.
func loopbackBase(t *testing.T) (providertest.CatalogHost, providertest.CatalogHost) {
	st := newStack(t)
	if _, err := st.AddLoopback(stack.NICConfig{}); err != nil {
		t.Fatal(err)
	}
	h := providertest.CatalogHost{Catalog: netstackCatalog(t, st), Addr4: lo4, Addr6: lo6}
	return h, h
}

// pipeBase is two hosts joined by an in-memory link.
func pipeBase(t *testing.T) (providertest.CatalogHost, providertest.CatalogHost) {
	a, b := newStack(t), newStack(t)
	_, _, err := stack.Pipe(a, b, 0,
		stack.NICConfig{Addrs: []netip.Prefix{netip.PrefixFrom(p4a, 24), netip.PrefixFrom(p6a, 64)}},
		stack.NICConfig{Addrs: []netip.Prefix{netip.PrefixFrom(p4b, 24), netip.PrefixFrom(p6b, 64)}})
	if err != nil {
		t.Fatal(err)
	}
	return providertest.CatalogHost{Catalog: netstackCatalog(t, a), Addr4: p4a, Addr6: p6a},
		providertest.CatalogHost{Catalog: netstackCatalog(t, b), Addr4: p4b, Addr6: p6b}
}

// chainHarnesses returns the loopback and pipe harnesses of a chain.
func chainHarnesses(name string, layers ...providertest.LayerInstaller) []providertest.Harness {
	var hs []providertest.Harness
	for _, b := range []struct {
		name string
		base func(*testing.T) (providertest.CatalogHost, providertest.CatalogHost)
	}{{"Loopback", loopbackBase}, {"Pipe", pipeBase}} {
		hs = append(hs, providertest.ChainHarness{
			Name: name + "/" + b.name, Base: b.base, Layers: layers,
			Unroutable4: unroutable4, Unroutable6: unroutable6,
		}.Harness())
	}
	return hs
}

// hostBase is one host on the kernel's loopback, through the host
// provider.
func hostBase(t *testing.T) (providertest.CatalogHost, providertest.CatalogHost) {
	cat := provider.NewCatalog(provider.NewRegistry())
	if err := host.Install(cat, host.DefaultPath); err != nil {
		t.Fatal(err)
	}
	h := providertest.CatalogHost{Catalog: cat, Addr4: lo4, Addr6: lo6}
	return h, h
}

// hostChainHarness is a chain over the host provider (kernel loopback
// only: no unroutable addresses, the tests needing them skip).
func hostChainHarness(name string, layers ...providertest.LayerInstaller) providertest.Harness {
	return providertest.ChainHarness{Name: name + "/HostLoopback", Base: hostBase, Layers: layers}.Harness()
}
