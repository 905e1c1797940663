package host_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/provider/host"
	"github.com/ws2go/ws2/wsa"
)

func TestProtocols(t *testing.T) {
	ps := host.Protocols()
	want := []struct {
		name           string
		id             wsa.GUID
		af, typ, proto int32
		flags          uint32
		min, max       int32
		msgSize        uint32
	}{
		{"ws2 Host [TCP/IP]", host.HostTCPIPProviderID, wsa.AF_INET, wsa.SOCK_STREAM, wsa.IPPROTO_TCP, 0x20066, 16, 16, 0},
		{"ws2 Host [UDP/IP]", host.HostTCPIPProviderID, wsa.AF_INET, wsa.SOCK_DGRAM, wsa.IPPROTO_UDP, 0x20609, 16, 16, 0xFFBB},
		{"ws2 Host [TCP/IPv6]", host.HostTCPIP6ProviderID, wsa.AF_INET6, wsa.SOCK_STREAM, wsa.IPPROTO_TCP, 0x20066, 28, 28, 0},
		{"ws2 Host [UDP/IPv6]", host.HostTCPIP6ProviderID, wsa.AF_INET6, wsa.SOCK_DGRAM, wsa.IPPROTO_UDP, 0x20609, 28, 28, 0xFFBB},
	}
	if len(ps) != len(want) {
		t.Fatalf("%d entries, want %d", len(ps), len(want))
	}
	for i, w := range want {
		p := ps[i]
		if p.ProtocolName != w.name || p.ProviderId != w.id || p.AddressFamily != w.af || p.SocketType != w.typ ||
			p.Protocol != w.proto || p.ServiceFlags1 != w.flags || p.MinSockAddr != w.min || p.MaxSockAddr != w.max ||
			p.MessageSize != w.msgSize || p.ProviderFlags != wsa.PFL_MATCHES_PROTOCOL_ZERO || p.Version != 2 ||
			p.ProtocolChain.ChainLen != 1 || p.ProtocolMaxOffset != 0 || p.NetworkByteOrder != wsa.BIGENDIAN ||
			p.SecurityScheme != wsa.SECURITY_PROTOCOL_NONE || p.CatalogEntryId != 0 {
			t.Errorf("entry %d = %+v, want %+v", i, p, w)
		}
	}
	ids := map[wsa.GUID]bool{host.HostTCPIPProviderID: true, host.HostTCPIP6ProviderID: true,
		wsa.MSAFD_TCPIP_PROVIDER_ID: true, wsa.MSAFD_TCPIP6_PROVIDER_ID: true}
	if len(ids) != 4 {
		t.Error("the provider's GUIDs are not its own")
	}
}

func TestInstall(t *testing.T) {
	cat := provider.NewCatalog(provider.NewRegistry())
	if err := host.Install(cat, host.DefaultPath); err != nil {
		t.Fatal(err)
	}
	got := cat.WSCEnumProtocols(nil)
	names := []string{"ws2 Host [TCP/IP]", "ws2 Host [UDP/IP]", "ws2 Host [TCP/IPv6]", "ws2 Host [UDP/IPv6]"}
	if len(got) != 4 {
		t.Fatalf("%d entries installed", len(got))
	}
	for i, p := range got {
		if p.CatalogEntryId != uint32(1001+i) || p.ProtocolName != names[i] {
			t.Errorf("entry %d: id %d name %q", i, p.CatalogEntryId, p.ProtocolName)
		}
	}
	for _, id := range []wsa.GUID{host.HostTCPIPProviderID, host.HostTCPIP6ProviderID} {
		if p, err := cat.WSCGetProviderPath(id); err != nil || p != host.DefaultPath {
			t.Errorf("path of %v: %q %v", id, p, err)
		}
	}
	e, _, _, _, err := cat.Select(wsa.AF_INET6, wsa.SOCK_DGRAM, 0, nil, 0)
	if err != nil || e.Info.CatalogEntryId != 1004 {
		t.Errorf("Select(AF_INET6, SOCK_DGRAM, 0) = %d, %v", e.Info.CatalogEntryId, err)
	}
	if err := host.Install(cat, host.DefaultPath); err == nil {
		t.Error("second Install succeeded")
	}
	if n := len(cat.WSCEnumProtocols(nil)); n != 4 {
		t.Errorf("a failed Install left %d entries", n)
	}
	if err := host.Install(nil, host.DefaultPath); err == nil {
		t.Error("Install(nil) succeeded")
	}
}

func TestStartupVersion(t *testing.T) {
	p := host.New()
	if _, _, err := p.Startup(wsa.MAKEWORD(2, 1), nil, nil); err != wsa.WSAVERNOTSUPPORTED {
		t.Errorf("WSPStartup(2.1) = %v", err)
	}
	if _, _, err := p.Startup(wsa.WINSOCK_VERSION, nil, nil); err != wsa.WSAEFAULT {
		t.Errorf("WSPStartup without upcalls = %v", err)
	}
}

// TestImports: the provider and the shared package import only the
// standard library, golang.org/x/sys, provider and wsa (and the shared
// package): never the stack, gVisor, the api or another provider.
func TestImports(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go command not found")
	}
	const mod = "github.com/ws2go/ws2"
	allowed := []string{mod + "/wsa", mod + "/provider", "golang.org/x/sys/"}
	for _, pkg := range []string{"./", "../internal/wsp"} {
		out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list %s: %v\n%s", pkg, err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			ok := false
			for _, a := range allowed {
				if dep == a || strings.HasPrefix(dep, a+"/") || strings.HasPrefix(dep, a) && strings.HasSuffix(a, "/") {
					ok = true
				}
			}
			if strings.HasPrefix(dep, mod+"/provider/") && dep != mod+"/provider/host" && dep != mod+"/provider/internal/wsp" {
				ok = false
			}
			if !ok {
				t.Errorf("%s imports %s", pkg, dep)
			}
		}
	}
}
