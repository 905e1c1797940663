package host_test

import (
	"net/netip"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/ws2go/ws2/internal/testutil"
	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/provider/host"
	"github.com/ws2go/ws2/provider/providertest"
	"github.com/ws2go/ws2/wsa"
)

var (
	lo4 = netip.MustParseAddr("127.0.0.1")
	lo6 = netip.MustParseAddr("::1")
)

// newHost installs a fresh provider in a fresh catalog and starts it with
// a fake upcall table, as the api would (once per provider id).
func newHost(t *testing.T) (providertest.Host, *host.Provider) {
	t.Helper()
	p := host.New()
	cat := provider.NewCatalog(provider.NewRegistry())
	if err := cat.Registry().Register(host.DefaultPath, p.Startup); err != nil {
		t.Fatal(err)
	}
	protos := host.Protocols()
	if err := cat.WSCInstallProvider(host.HostTCPIPProviderID, host.DefaultPath, protos[:2]); err != nil {
		t.Fatal(err)
	}
	if err := cat.WSCInstallProvider(host.HostTCPIP6ProviderID, host.DefaultPath, protos[2:]); err != nil {
		t.Fatal(err)
	}
	entries := cat.WSCEnumProtocols(nil)
	up := providertest.NewUpcalls()
	var procs provider.ProcTable
	for range 2 {
		_, pt, err := p.Startup(wsa.WINSOCK_VERSION, &entries[0], up)
		if err != nil {
			t.Fatalf("WSPStartup: %v", err)
		}
		procs = pt
	}
	t.Cleanup(func() {
		_ = procs.WSPCleanup()
		_ = procs.WSPCleanup()
	})
	return providertest.Host{Procs: procs, Protocols: entries, Addr4: lo4, Addr6: lo6, Upcalls: up}, p
}

// loopbackHarness runs the suite with server and client on one provider,
// over the kernel's loopback (127.0.0.1 and ::1) only. It has no
// unroutable addresses: the tests needing one skip.
func loopbackHarness() providertest.Harness {
	return providertest.Harness{
		Name: "Loopback",
		New: func(t *testing.T) (providertest.Host, providertest.Host) {
			h, _ := newHost(t)
			return h, h
		},
	}
}

func TestSuite(t *testing.T) {
	check := testutil.LeakCheck(t)
	providertest.Run(t, loopbackHarness())
	check()
	checkNoProviderGoroutines(t)
}

// checkNoProviderGoroutines fails if goroutines running provider code
// outlive the sockets.
func checkNoProviderGoroutines(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		var leaked []string
		for _, g := range strings.Split(string(buf), "\n\n") {
			if (strings.Contains(g, "ws2/provider/host.") || strings.Contains(g, "ws2/provider/internal/wsp.")) &&
				!strings.Contains(g, "checkNoProviderGoroutines") {
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
