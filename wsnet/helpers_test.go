package wsnet_test

import (
	"net"
	"strconv"
	"testing"

	ws2 "github.com/ws2go/ws2"
	"github.com/ws2go/ws2/wsnet"
)

// loopback returns a loopback host closed at the end of the test.
func loopback(t testing.TB) *ws2.Host {
	t.Helper()
	h, err := ws2.NewLoopback()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

// tcpPair returns a connected pair: c1 dialled from dial to a listener on
// listen at addr (host part only), c2 accepted.
func tcpPair(t testing.TB, dial, listen *ws2.Host, network, laddr, dialHost string) (c1, c2 net.Conn, stop func()) {
	t.Helper()
	ln, err := wsnet.Listen(listen.Session, network, laddr)
	if err != nil {
		t.Fatal(err)
	}
	type res struct {
		c   net.Conn
		err error
	}
	ch := make(chan res, 1)
	go func() {
		c, err := ln.Accept()
		ch <- res{c, err}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	d := wsnet.Dialer{Session: dial.Session}
	c1, err = d.Dial(network, net.JoinHostPort(dialHost, itoa(port)))
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	r := <-ch
	ln.Close()
	if r.err != nil {
		c1.Close()
		t.Fatal(r.err)
	}
	return c1, r.c, func() { c1.Close(); r.c.Close() }
}

func itoa(i int) string { return strconv.Itoa(i) }
