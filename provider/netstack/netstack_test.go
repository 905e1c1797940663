package netstack_test

import (
	"net/netip"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/provider/netstack"
	"github.com/ws2go/ws2/provider/providertest"
	"github.com/ws2go/ws2/stack"
	"github.com/ws2go/ws2/wsa"
)

// host installs the provider for st in a fresh catalog and starts it with a
// fake upcall table, as the api would.
func host(t *testing.T, st *stack.Stack, a4, a6 netip.Addr) (providertest.Host, *netstack.Provider) {
	t.Helper()
	// What Install does, keeping the *Provider.
	p := netstack.New(st)
	cat := provider.NewCatalog(provider.NewRegistry())
	if err := cat.Registry().Register(netstack.DefaultPath, p.Startup); err != nil {
		t.Fatal(err)
	}
	if err := netstack.InstallProtocols(cat, netstack.DefaultPath); err != nil {
		t.Fatal(err)
	}
	start := p.Startup
	entries := cat.WSCEnumProtocols(nil)
	up := providertest.NewUpcalls()
	var procs provider.ProcTable
	for range 2 { // once per provider id, as the api does
		_, pt, err := start(wsa.WINSOCK_VERSION, &entries[0], up)
		if err != nil {
			t.Fatalf("WSPStartup: %v", err)
		}
		procs = pt
	}
	t.Cleanup(func() {
		_ = procs.WSPCleanup()
		_ = procs.WSPCleanup()
	})
	return providertest.Host{Procs: procs, Protocols: entries, Addr4: a4, Addr6: a6, Upcalls: up}, p
}

func newStack(t *testing.T) *stack.Stack {
	t.Helper()
	st, err := stack.New(stack.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	return st
}

var (
	lo4 = netip.MustParseAddr("127.0.0.1")
	lo6 = netip.MustParseAddr("::1")
	p4a = netip.MustParseAddr("198.18.0.1")
	p4b = netip.MustParseAddr("198.18.0.2")
	p6a = netip.MustParseAddr("2001:db8::1")
	p6b = netip.MustParseAddr("2001:db8::2")
)

func loopbackHarness() providertest.Harness {
	return providertest.Harness{
		Name: "Loopback",
		New: func(t *testing.T) (providertest.Host, providertest.Host) {
			st := newStack(t)
			if _, err := st.AddLoopback(stack.NICConfig{}); err != nil {
				t.Fatal(err)
			}
			h, _ := host(t, st, lo4, lo6)
			return h, h
		},
		Unroutable4: netip.MustParseAddr("203.0.113.1"),
		Unroutable6: netip.MustParseAddr("2001:db8:dead::1"),
	}
}

func pipeHarness() providertest.Harness {
	return providertest.Harness{
		Name: "Pipe",
		New: func(t *testing.T) (providertest.Host, providertest.Host) {
			a, b := newStack(t), newStack(t)
			_, _, err := stack.Pipe(a, b, 0,
				stack.NICConfig{Addrs: []netip.Prefix{netip.PrefixFrom(p4a, 24), netip.PrefixFrom(p6a, 64)}},
				stack.NICConfig{Addrs: []netip.Prefix{netip.PrefixFrom(p4b, 24), netip.PrefixFrom(p6b, 64)}})
			if err != nil {
				t.Fatal(err)
			}
			srv, _ := host(t, a, p4a, p6a)
			cli, _ := host(t, b, p4b, p6b)
			return srv, cli
		},
		Unroutable4: netip.MustParseAddr("203.0.113.1"),
		Unroutable6: netip.MustParseAddr("2001:db8:dead::1"),
	}
}

func TestSuite(t *testing.T) {
	providertest.Run(t, loopbackHarness())
	providertest.Run(t, pipeHarness())
	checkNoLeaks(t)
}

// checkNoLeaks fails if goroutines running provider code outlive the
// sockets.
func checkNoLeaks(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		var leaked []string
		for _, g := range strings.Split(string(buf), "\n\n") {
			if strings.Contains(g, "ws2/provider/netstack.") && !strings.Contains(g, "checkNoLeaks") {
				leaked = append(leaked, g)
			}
		}
		if len(leaked) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines in provider code remain:\n%s", len(leaked), strings.Join(leaked, "\n\n"))
		}
		time.Sleep(10 * time.Millisecond)
	}
}
