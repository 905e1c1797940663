package host

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/provider/providertest"
	"github.com/ws2go/ws2/wsa"
)

// start starts a fresh provider with a fake upcall table.
func start(t *testing.T) (provider.ProcTable, *providertest.Upcalls) {
	t.Helper()
	up := providertest.NewUpcalls()
	p := New()
	_, pt, err := p.Startup(wsa.WINSOCK_VERSION, nil, up)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pt.WSPCleanup() })
	return pt, up
}

// entry returns the catalog entry of Protocols for (af, typ), with a
// catalog id.
func entry(af, typ int32) wsa.ProtocolInfo {
	for i, p := range Protocols() {
		if p.AddressFamily == af && p.SocketType == typ {
			p.CatalogEntryId = uint32(1001 + i)
			return p
		}
	}
	panic("no entry")
}

func newSock(t *testing.T, pt provider.ProcTable, af, typ int32) wsa.Socket {
	t.Helper()
	info := entry(af, typ)
	s, err := pt.WSPSocket(af, typ, 0, &info, 0, wsa.WSA_FLAG_OVERLAPPED)
	must(t, err)
	t.Cleanup(func() { _ = pt.WSPCloseSocket(s) })
	return s
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func loopback(af int32, port int) wsa.Sockaddr {
	a := netip.MustParseAddr("127.0.0.1")
	if af == wsa.AF_INET6 {
		a = netip.MustParseAddr("::1")
	}
	return wsa.SockaddrFromAddrPort(netip.AddrPortFrom(a, uint16(port)))
}

// pair returns a connected TCP pair over pt (client, accepted).
func pair(t *testing.T, pt provider.ProcTable, af int32) (wsa.Socket, wsa.Socket) {
	t.Helper()
	l := newSock(t, pt, af, wsa.SOCK_STREAM)
	must(t, pt.WSPBind(l, loopback(af, 0)))
	must(t, pt.WSPListen(l, 5))
	name, err := pt.WSPGetSockName(l)
	must(t, err)
	c := newSock(t, pt, af, wsa.SOCK_STREAM)
	must(t, pt.WSPConnect(c, name, nil, nil, nil, nil))
	s, _, err := pt.WSPAccept(l, nil, 0)
	must(t, err)
	t.Cleanup(func() { _ = pt.WSPCloseSocket(s) })
	return c, s
}

func setOpt(t *testing.T, pt provider.ProcTable, s wsa.Socket, level, name, v int32) error {
	t.Helper()
	b := make([]byte, 4)
	binary.LittleEndian.PutUint32(b, uint32(v))
	return pt.WSPSetSockOpt(s, level, name, b)
}

func setTimeout(t *testing.T, pt provider.ProcTable, s wsa.Socket, d time.Duration) {
	t.Helper()
	must(t, setOpt(t, pt, s, wsa.SOL_SOCKET, wsa.SO_RCVTIMEO, int32(d/time.Millisecond)))
}

func recv(pt provider.ProcTable, s wsa.Socket, buf []byte, flags uint32) (int, error) {
	n, err := pt.WSPRecv(s, [][]byte{buf}, &flags, nil, nil, nil)
	return int(n), err
}

func send(t *testing.T, pt provider.ProcTable, s wsa.Socket, data []byte, flags uint32) {
	t.Helper()
	n, err := pt.WSPSend(s, [][]byte{data}, flags, nil, nil, nil)
	must(t, err)
	if int(n) != len(data) {
		t.Fatalf("send %d of %d bytes", n, len(data))
	}
}

// eventually polls cond (tests may poll) for up to 10 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func ioctlU32(t *testing.T, pt provider.ProcTable, s wsa.Socket, code uint32) uint32 {
	t.Helper()
	out := make([]byte, 4)
	_, err := pt.WSPIoctl(s, code, nil, out, nil, nil, nil)
	must(t, err)
	return binary.LittleEndian.Uint32(out)
}

func newEvent(t *testing.T, up *providertest.Upcalls) (wsa.Handle, *providertest.Event) {
	t.Helper()
	h, err := up.WPUCreateEvent()
	must(t, err)
	return h, up.Event(h)
}

// waitRecord waits for ev and enumerates until want is recorded.
func waitRecord(t *testing.T, pt provider.ProcTable, s wsa.Socket, h wsa.Handle, ev *providertest.Event, want int32) wsa.NetworkEvents {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	var acc wsa.NetworkEvents
	for acc.NetworkEvents&want != want {
		if left := time.Until(deadline); left <= 0 || !ev.Wait(left) {
			t.Fatalf("recorded %#x, want %#x", acc.NetworkEvents, want)
		}
		n, err := pt.WSPEnumNetworkEvents(s, h)
		must(t, err)
		acc.NetworkEvents |= n.NetworkEvents
		for i := range wsa.FD_MAX_EVENTS {
			if n.NetworkEvents&(1<<i) != 0 {
				acc.ErrorCode[i] = n.ErrorCode[i]
			}
		}
	}
	return acc
}

func sockOf(t *testing.T, up *providertest.Upcalls, h wsa.Socket) *socket {
	t.Helper()
	ctx, err := up.WPUQuerySocketHandleContext(h)
	must(t, err)
	return ctx.(*socket)
}
