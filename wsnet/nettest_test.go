package wsnet_test

import (
	"net"
	"testing"

	ws2 "github.com/ws2go/ws2"
	"golang.org/x/net/nettest"
)

// TestNettestLoopback runs x/net/nettest's net.Conn suite over TCP pairs on
// one loopback host, IPv4, IPv6 and dual-stack (an IPv4 client to a "tcp"
// wildcard listener).
func TestNettestLoopback(t *testing.T) {
	h := loopback(t)
	for _, tc := range []struct{ name, network, laddr, host string }{
		{"ipv4", "tcp4", "127.0.0.1:0", "127.0.0.1"},
		{"ipv6", "tcp6", "[::1]:0", "::1"},
		{"dualstack", "tcp", ":0", "127.0.0.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nettest.TestConn(t, func() (c1, c2 net.Conn, stop func(), err error) {
				c1, c2, stop = tcpPair(t, h, h, tc.network, tc.laddr, tc.host)
				return c1, c2, stop, nil
			})
		})
	}
}

// TestNettestPipe runs the suite between two hosts joined by an in-memory
// link (ws2.NewPipe), so every segment crosses two gVisor stacks.
func TestNettestPipe(t *testing.T) {
	a, b, err := ws2.NewPipe(0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	for _, tc := range []struct{ name, network, laddr, host string }{
		{"ipv4", "tcp", "198.18.0.2:0", "198.18.0.2"},
		{"ipv6", "tcp", "[2001:db8::2]:0", "2001:db8::2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nettest.TestConn(t, func() (c1, c2 net.Conn, stop func(), err error) {
				c1, c2, stop = tcpPair(t, a, b, tc.network, tc.laddr, tc.host)
				return c1, c2, stop, nil
			})
		})
	}
}
