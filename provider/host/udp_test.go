package host

import (
	"errors"
	"testing"
	"time"

	"github.com/ws2go/ws2/wsa"
)

// TestUnconnectedPortUnreachable: an ICMP port unreachable makes the next
// receive of an unconnected UDP socket fail WSAECONNRESET, as on Windows
// (the kernel's IP_RECVERR); SIO_UDP_CONNRESET off hides it; the socket is
// not left readable afterwards.
func TestUnconnectedPortUnreachable(t *testing.T) {
	pt, _ := start(t)
	for _, af := range []int32{wsa.AF_INET, wsa.AF_INET6} {
		probe := newSock(t, pt, af, wsa.SOCK_DGRAM)
		must(t, pt.WSPBind(probe, loopback(af, 0)))
		closed, err := pt.WSPGetSockName(probe)
		must(t, err)
		must(t, pt.WSPCloseSocket(probe))

		u := newSock(t, pt, af, wsa.SOCK_DGRAM)
		must(t, pt.WSPBind(u, loopback(af, 0)))
		setTimeout(t, pt, u, 5*time.Second)
		if _, err := pt.WSPSendTo(u, [][]byte{[]byte("anyone?")}, 0, closed, nil, nil, nil); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 16)
		if _, err := recv(pt, u, buf, 0); !errors.Is(err, wsa.WSAECONNRESET) {
			t.Fatalf("af %d: recvfrom after a port unreachable: %v, want WSAECONNRESET", af, err)
		}
		r := &wsa.FdSet{Array: []wsa.Socket{u}}
		if n, err := pt.WSPSelect(r, nil, nil, &wsa.Timeval{}); n != 0 || err != nil {
			t.Fatalf("af %d: readable after the error was reported: %d %v", af, n, err)
		}
		_, err = pt.WSPIoctl(u, wsa.SIO_UDP_CONNRESET, []byte{0, 0, 0, 0}, nil, nil, nil, nil)
		must(t, err)
		setTimeout(t, pt, u, 200*time.Millisecond)
		if _, err := pt.WSPSendTo(u, [][]byte{[]byte("anyone?")}, 0, closed, nil, nil, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := recv(pt, u, buf, 0); !errors.Is(err, wsa.WSAETIMEDOUT) {
			t.Fatalf("af %d: recvfrom with SIO_UDP_CONNRESET off: %v, want WSAETIMEDOUT", af, err)
		}
	}
}
