package host

import (
	"errors"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/ws2go/ws2/wsa"
)

func reusePort(t *testing.T, s *socket) int {
	t.Helper()
	v, err := unix.GetsockoptInt(s.fd, unix.SOL_SOCKET, unix.SO_REUSEPORT)
	must(t, err)
	return v
}

// TestBindKernelSharing: the kernel's SO_REUSEADDR/SO_REUSEPORT are set
// only on sockets whose port the provider's table lets two of its sockets
// share; so another provider instance (with a table of its own) cannot
// bind a port of this one, whatever options it uses.
func TestBindKernelSharing(t *testing.T) {
	a, upA := start(t)
	b, _ := start(t)
	for _, typ := range []int32{wsa.SOCK_DGRAM, wsa.SOCK_STREAM} {
		x := newSock(t, a, wsa.AF_INET, typ)
		must(t, a.WSPBind(x, loopback(wsa.AF_INET, 0)))
		name, err := a.WSPGetSockName(x)
		must(t, err)
		if reusePort(t, sockOf(t, upA, x)) != 0 {
			t.Fatal("SO_REUSEPORT on a socket that shares nothing")
		}
		y := newSock(t, b, wsa.AF_INET, typ)
		must(t, setOpt(t, b, y, wsa.SOL_SOCKET, wsa.SO_REUSEADDR, 1))
		if err := b.WSPBind(y, name); !errors.Is(err, wsa.WSAEADDRINUSE) {
			t.Fatalf("type %d: another instance bound a port of ours: %v", typ, err)
		}

		// Within one instance, the table's sharing reaches the kernel.
		r1 := newSock(t, a, wsa.AF_INET, typ)
		must(t, setOpt(t, a, r1, wsa.SOL_SOCKET, wsa.SO_REUSEADDR, 1))
		must(t, a.WSPBind(r1, loopback(wsa.AF_INET, 0)))
		rname, err := a.WSPGetSockName(r1)
		must(t, err)
		r2 := newSock(t, a, wsa.AF_INET, typ)
		must(t, setOpt(t, a, r2, wsa.SOL_SOCKET, wsa.SO_REUSEADDR, 1))
		must(t, a.WSPBind(r2, rname))
		if reusePort(t, sockOf(t, upA, r1)) == 0 || reusePort(t, sockOf(t, upA, r2)) == 0 {
			t.Fatal("sharing sockets without SO_REUSEPORT")
		}
		z := newSock(t, b, wsa.AF_INET, typ)
		if err := b.WSPBind(z, rname); !errors.Is(err, wsa.WSAEADDRINUSE) {
			t.Fatalf("type %d: another instance joined a shared port: %v", typ, err)
		}
	}
}
