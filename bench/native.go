package bench

import (
	"errors"
	"io"

	"github.com/ws2go/ws2"
	"github.com/ws2go/ws2/api"
	"github.com/ws2go/ws2/wsa"
)

// nativeConn is a connected stream socket driven by blocking Send and Recv
// on its Session: the api's own cost, without wsnet.
type nativeConn struct {
	s *api.Session
	h wsa.Socket
}

func (c *nativeConn) Read(b []byte) (int, error) {
	n, err := c.s.Recv(c.h, b, 0)
	if err != nil {
		return int(n), err
	}
	if n == 0 && len(b) > 0 {
		return 0, io.EOF
	}
	return int(n), nil
}

func (c *nativeConn) Write(b []byte) (int, error) {
	done := 0
	for done < len(b) {
		n, err := c.s.Send(c.h, b[done:], 0)
		done += int(n)
		if err != nil {
			return done, err
		}
	}
	return done, nil
}

func (c *nativeConn) CloseWrite() error { return c.s.Shutdown(c.h, wsa.SD_SEND) }
func (c *nativeConn) Close() error      { return c.s.Closesocket(c.h) }

// nativePairs returns n connected pairs of blocking api sockets between cli
// and srv, the listener bound to bind.
func nativePairs(cli, srv *api.Session, bind wsa.Sockaddr, n int) (clients, servers []stream, err error) {
	l, err := srv.Socket(wsa.AF_INET, wsa.SOCK_STREAM, wsa.IPPROTO_TCP)
	if err != nil {
		return nil, nil, err
	}
	defer srv.Closesocket(l)
	if err := srv.Bind(l, bind); err != nil {
		return nil, nil, err
	}
	if err := srv.Listen(l, int32(n)); err != nil {
		return nil, nil, err
	}
	addr, err := srv.Getsockname(l)
	if err != nil {
		return nil, nil, err
	}
	closeAll := func() {
		for _, c := range append(clients, servers...) {
			c.Close()
		}
	}
	for range n {
		c, err := cli.Socket(wsa.AF_INET, wsa.SOCK_STREAM, wsa.IPPROTO_TCP)
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		clients = append(clients, &nativeConn{cli, c})
		if err := cli.Connect(c, addr); err != nil {
			closeAll()
			return nil, nil, err
		}
		a, _, err := srv.Accept(l)
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		servers = append(servers, &nativeConn{srv, a})
	}
	return clients, servers, nil
}

// nativeSetup opens the sessions for a native path and returns n pairs and
// a cleanup.
func nativeSetup(path string, mtu uint32, n int) (clients, servers []stream, cleanup func() error, err error) {
	switch path {
	case PathAPINetstackNative:
		a, b, err := ws2.NewPipe(mtu)
		if err != nil {
			return nil, nil, nil, err
		}
		cleanup = func() error { return errors.Join(a.Close(), b.Close()) }
		bind := &wsa.SockaddrInet4{Addr: ws2.PipeAddrB[0].Addr().As4()}
		clients, servers, err = nativePairs(a.Session, b.Session, bind, n)
		if err != nil {
			cleanup()
			return nil, nil, nil, err
		}
		return clients, servers, cleanup, nil
	case PathAPIHostNative:
		s, err := newHostSession()
		if err != nil {
			return nil, nil, nil, err
		}
		cleanup = s.WSACleanup
		clients, servers, err = nativePairs(s, s, &wsa.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}, n)
		if err != nil {
			cleanup()
			return nil, nil, nil, err
		}
		return clients, servers, cleanup, nil
	}
	return nil, nil, nil, errors.New("bench: unknown native path " + path)
}
