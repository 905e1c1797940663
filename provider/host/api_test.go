package host_test

import (
	"testing"

	"github.com/ws2go/ws2/api"
	"github.com/ws2go/ws2/internal/testutil"
	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/provider/host"
	"github.com/ws2go/ws2/wsa"
)

// TestThroughAPI runs the provider under the real api: a Session over a
// catalog holding it, protocol selection by attributes (reliable, ordered
// stream), socket(AF_INET6, SOCK_STREAM, 0), a loopback connection, an
// overlapped WSARecv completed through a completion port, and WSACleanup
// ending the provider's goroutines.
func TestThroughAPI(t *testing.T) {
	check := testutil.LeakCheck(t)
	cat := provider.NewCatalog(provider.NewRegistry())
	if err := host.Install(cat, host.DefaultPath); err != nil {
		t.Fatal(err)
	}
	s, err := api.WSAStartup(wsa.WINSOCK_VERSION, cat)
	if err != nil {
		t.Fatal(err)
	}
	// Select by attributes, as a protocol-independent program does.
	var size uint32
	_, _ = s.WSAEnumProtocols(nil, nil, &size)
	infos := make([]wsa.ProtocolInfo, size/wsa.SizeofProtocolInfo+1)
	size = uint32(len(infos)) * wsa.SizeofProtocolInfo
	n, err := s.WSAEnumProtocols(nil, infos, &size)
	if err != nil {
		t.Fatal(err)
	}
	var pick *wsa.ProtocolInfo
	want := uint32(wsa.XP1_GUARANTEED_DELIVERY | wsa.XP1_GUARANTEED_ORDER)
	for i := range infos[:n] {
		p := &infos[i]
		if p.ServiceFlags1&want == want && p.ServiceFlags1&wsa.XP1_MESSAGE_ORIENTED == 0 && p.AddressFamily == wsa.AF_INET6 {
			pick = p
			break
		}
	}
	if pick == nil || pick.ProtocolName != "ws2 Host [TCP/IPv6]" {
		t.Fatalf("reliable ordered IPv6 stream: %+v", pick)
	}

	l, err := s.Socket(wsa.AF_INET6, wsa.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Bind(l, &wsa.SockaddrInet6{Addr: [16]byte{15: 1}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Listen(l, wsa.SOMAXCONN); err != nil {
		t.Fatal(err)
	}
	name, err := s.Getsockname(l)
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.Socket(wsa.AF_INET6, wsa.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Connect(c, name); err != nil {
		t.Fatal(err)
	}
	a, _, err := s.Accept(l)
	if err != nil {
		t.Fatal(err)
	}
	port, err := s.CreateIoCompletionPort(api.INVALID_HANDLE_VALUE, 0, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateIoCompletionPort(wsa.Handle(a), port, 42, 0); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 16)
	ov := &wsa.Overlapped{}
	var flags uint32
	if err := s.WSARecv(a, [][]byte{buf}, nil, &flags, ov, nil); err != wsa.WSA_IO_PENDING {
		t.Fatalf("overlapped WSARecv: %v", err)
	}
	if _, err := s.Send(c, []byte("via iocp"), 0); err != nil {
		t.Fatal(err)
	}
	var qty uint32
	var key uintptr
	var got *wsa.Overlapped
	if err := s.GetQueuedCompletionStatus(port, &qty, &key, &got, 10000); err != nil {
		t.Fatal(err)
	}
	if got != ov || key != 42 || qty != 8 || string(buf[:qty]) != "via iocp" {
		t.Fatalf("completion: ov %p key %d %d bytes %q", got, key, qty, buf[:qty])
	}
	if err := s.WSACleanup(); err != nil {
		t.Fatal(err)
	}
	check()
}
