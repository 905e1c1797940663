package wsnet_test

import (
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/ws2go/ws2/wsnet"
)

// TestListener makes the checks of a TestListener-style suite (x/net/nettest
// has none): Addr, concurrent Accepts each get their own connection,
// Accept deadlines (past, moved while blocked, cleared), Close unblocks
// Accept, Accept after Close fails with net.ErrClosed.
func TestListener(t *testing.T) {
	h := loopback(t)
	for _, tc := range []struct{ network, addr, dial string }{
		{"tcp4", "127.0.0.1:0", "127.0.0.1"},
		{"tcp6", "[::1]:0", "::1"},
		{"tcp", ":0", "127.0.0.1"}, // dual stack: [::]:port, IPv4 clients
		{"tcp", ":0", "::1"},
		{"tcp", ":0", ""}, // dial the listener's own address, [::]:port
	} {
		t.Run(tc.network+"-"+tc.dial, func(t *testing.T) {
			ln, err := wsnet.Listen(h.Session, tc.network, tc.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			la, ok := ln.Addr().(*net.TCPAddr)
			if !ok || la.Port == 0 {
				t.Fatalf("Addr %#v", ln.Addr())
			}
			t.Logf("listening on %v", la)
			if tc.network == "tcp" && !la.IP.Equal(net.IPv6unspecified) {
				t.Fatalf("dual-stack listener at %v, want [::]", la)
			}
			target := net.JoinHostPort(tc.dial, itoa(la.Port))
			if tc.dial == "" {
				target = la.String() // the unspecified address: the local system
			}

			// Concurrent Accepts.
			const n = 8
			var wg sync.WaitGroup
			accepted := make(chan net.Conn, n)
			for range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					c, err := ln.Accept()
					if err != nil {
						t.Errorf("Accept: %v", err)
						return
					}
					accepted <- c
				}()
			}
			d := wsnet.Dialer{Session: h.Session}
			locals := map[string]bool{}
			for range n {
				c, err := d.Dial("tcp", target)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				locals[c.LocalAddr().String()] = true
			}
			wg.Wait()
			close(accepted)
			for c := range accepted {
				ra := c.RemoteAddr().(*net.TCPAddr)
				if !locals[ra.String()] {
					t.Errorf("accepted a connection from %v, not one of ours (%v)", ra, locals)
				}
				delete(locals, ra.String())
				c.Close()
			}
			if len(locals) != 0 {
				t.Errorf("not accepted: %v", locals)
			}

			// Deadlines.
			l := ln.(*wsnet.Listener)
			l.SetDeadline(time.Now().Add(-time.Second))
			_, err = ln.Accept()
			isTimeout(t, err)
			l.SetDeadline(time.Now().Add(time.Hour))
			go func() {
				time.Sleep(30 * time.Millisecond)
				l.SetDeadline(time.Now().Add(20 * time.Millisecond))
			}()
			within(t, 10*time.Second, "Accept with a moved deadline", func() { _, err = ln.Accept() })
			isTimeout(t, err)
			l.SetDeadline(time.Time{})
			go func() {
				if c, err := d.Dial("tcp", target); err == nil {
					defer c.Close()
					c.Read(make([]byte, 1))
				}
			}()
			c, err := ln.Accept()
			if err != nil {
				t.Fatalf("Accept after clearing the deadline: %v", err)
			}
			c.Close()

			// Close unblocks Accept; Accept after Close fails.
			closed := make(chan struct{})
			go func() {
				defer close(closed)
				time.Sleep(30 * time.Millisecond)
				if err := ln.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			}()
			within(t, 10*time.Second, "Accept during Close", func() { _, err = ln.Accept() })
			isClosed(t, err)
			var oe *net.OpError
			if errors.As(err, &oe); oe.Op != "accept" {
				t.Fatalf("Op %q", oe.Op)
			}
			_, err = ln.Accept()
			isClosed(t, err)
			<-closed // Accept may return before Close has closed the socket
			if err := ln.Close(); !errors.Is(err, net.ErrClosed) {
				t.Fatalf("second Close: %v", err)
			}
			// The port is free again.
			if c, err := d.Dial("tcp", target); err == nil {
				t.Fatalf("Dial to a closed listener succeeded: %v -> %v", c.LocalAddr(), c.RemoteAddr())
			}
		})
	}
}

func TestListenErrors(t *testing.T) {
	h := loopback(t)
	ln, err := wsnet.Listen(h.Session, "tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, err = wsnet.Listen(h.Session, "tcp4", ln.Addr().String())
	var oe *net.OpError
	if !errors.As(err, &oe) || oe.Op != "listen" {
		t.Fatalf("second Listen on %v: %v", ln.Addr(), err)
	}
	t.Logf("address in use: %v", err)
	if _, err := wsnet.Listen(h.Session, "udp", ":0"); err == nil {
		t.Fatal(`Listen("udp") succeeded`)
	}
	if _, err := wsnet.ListenPacket(h.Session, "tcp", ":0"); err == nil {
		t.Fatal(`ListenPacket("tcp") succeeded`)
	}
	if _, err := wsnet.Listen(nil, "tcp", ":0"); err == nil {
		t.Fatal("Listen without a Session succeeded")
	}
}
