package wsnet_test

import (
	"bytes"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/ws2go/ws2/wsa"
	"github.com/ws2go/ws2/wsnet"
)

func TestPacketConn(t *testing.T) {
	h := loopback(t)
	a, err := wsnet.ListenPacket(h.Session, "udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := wsnet.ListenPacket(h.Session, "udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, ok := a.LocalAddr().(*net.UDPAddr); !ok {
		t.Fatalf("LocalAddr %#v", a.LocalAddr())
	}

	// A round trip; the reply goes to the address ReadFrom returned.
	if _, err := a.WriteTo([]byte("hello"), b.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 100)
	n, from, err := b.ReadFrom(buf)
	if err != nil || string(buf[:n]) != "hello" || from.String() != a.LocalAddr().String() {
		t.Fatalf("ReadFrom: %q from %v, %v", buf[:n], from, err)
	}
	if _, ok := from.(*net.UDPAddr); !ok {
		t.Fatalf("source %T", from)
	}
	if _, err := b.WriteTo([]byte("world"), from); err != nil {
		t.Fatal(err)
	}
	n, _, err = a.ReadFrom(buf)
	if err != nil || string(buf[:n]) != "world" {
		t.Fatalf("reply: %q %v", buf[:n], err)
	}

	// An empty datagram is 0, nil (not io.EOF).
	a.WriteTo(nil, b.LocalAddr())
	if n, _, err := b.ReadFrom(buf); n != 0 || err != nil {
		t.Fatalf("empty datagram: %d %v", n, err)
	}

	// Truncation, Windows style: the buffer is filled, the rest discarded,
	// and the error is WSAEMSGSIZE. First with the datagram already queued
	// (the WSARecvFrom fails at once), then with the receive pending.
	big := bytes.Repeat([]byte("0123456789"), 10)
	small := make([]byte, 10)
	a.WriteTo(big, b.LocalAddr())
	time.Sleep(10 * time.Millisecond)
	checkTrunc := func(n int, from net.Addr, err error) {
		t.Helper()
		var oe *net.OpError
		if n != len(small) || !errors.Is(err, wsa.WSAEMSGSIZE) || !errors.As(err, &oe) || from == nil || from.String() != a.LocalAddr().String() {
			t.Fatalf("truncated ReadFrom: n=%d from=%v err=%v", n, from, err)
		}
		if !bytes.Equal(small, big[:len(small)]) {
			t.Fatalf("truncated data %q", small)
		}
	}
	n, from, err = b.ReadFrom(small)
	checkTrunc(n, from, err)
	t.Logf("truncation: %v", err)
	done := make(chan struct{})
	go func() {
		defer close(done)
		clear(small)
		n, from, err := b.ReadFrom(small)
		checkTrunc(n, from, err)
	}()
	time.Sleep(20 * time.Millisecond)
	a.WriteTo(big, b.LocalAddr())
	<-done
	// The rest was discarded: the next datagram is the next one.
	a.WriteTo([]byte("next"), b.LocalAddr())
	if n, _, err := b.ReadFrom(buf); err != nil || string(buf[:n]) != "next" {
		t.Fatalf("after truncation: %q %v", buf[:n], err)
	}

	// Deadlines and Close.
	b.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	_, _, err = b.ReadFrom(buf)
	isTimeout(t, err)
	b.SetReadDeadline(time.Time{})
	go func() { time.Sleep(30 * time.Millisecond); b.Close() }()
	within(t, 10*time.Second, "ReadFrom during Close", func() { _, _, err = b.ReadFrom(buf) })
	isClosed(t, err)

	// The wrong family.
	if _, err := a.WriteTo([]byte("x"), &net.UDPAddr{IP: net.IPv6loopback, Port: 9}); err == nil {
		t.Fatal("udp4 WriteTo an IPv6 address succeeded")
	}
	// A datagram to a port nobody listens on does not fail the next
	// receive (SIO_UDP_CONNRESET off).
	a.WriteTo([]byte("x"), &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9})
	a.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	_, _, err = a.ReadFrom(buf)
	isTimeout(t, err)
}

// TestPacketConnDualStack: a "udp" wildcard socket serves IPv4 and IPv6
// peers and replies to each.
func TestPacketConnDualStack(t *testing.T) {
	h := loopback(t)
	srv, err := wsnet.ListenPacket(h.Session, "udp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	port := srv.LocalAddr().(*net.UDPAddr).Port
	if ip := srv.LocalAddr().(*net.UDPAddr).IP; !ip.Equal(net.IPv6unspecified) {
		t.Fatalf("dual-stack socket at %v", srv.LocalAddr())
	}
	go func() {
		buf := make([]byte, 100)
		for {
			n, from, err := srv.ReadFrom(buf)
			if err != nil {
				return
			}
			srv.WriteTo(buf[:n], from)
		}
	}()
	for _, tc := range []struct{ network, host string }{{"udp4", "127.0.0.1"}, {"udp6", "::1"}, {"udp", "127.0.0.1"}} {
		c, err := wsnet.Dial(h.Session, tc.network, net.JoinHostPort(tc.host, itoa(port)))
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := c.(*wsnet.PacketConn); !ok {
			t.Fatalf("Dial(%s) gave a %T", tc.network, c)
		}
		if _, err := c.Write([]byte("echo " + tc.network)); err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 100)
		n, err := c.Read(buf)
		if err != nil || string(buf[:n]) != "echo "+tc.network {
			t.Fatalf("%s: %q %v", tc.network, buf[:n], err)
		}
		if ra := c.RemoteAddr().(*net.UDPAddr); ra.Port != port {
			t.Fatalf("RemoteAddr %v", ra)
		}
		c.Close()
	}
}
