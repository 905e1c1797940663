package wsnet

import (
	"context"
	"net"
	"net/netip"
	"time"

	"github.com/ws2go/ws2/api"
	"github.com/ws2go/ws2/wsa"
)

// Conn is a TCP connection over a Winsock Session: a net.Conn. Its methods
// are safe for concurrent use; Reads are serialised among themselves, and so
// are Writes, as in Go's net.
type Conn struct {
	fd *netFD
}

var _ net.Conn = (*Conn)(nil)

func newConn(fd *netFD) *Conn {
	// Go's net turns Nagle's algorithm off on every TCP connection.
	_ = fd.setsockoptInt(wsa.IPPROTO_TCP, wsa.TCP_NODELAY, 1)
	c := &fd.conn
	c.fd = fd
	return c
}

// Read reads up to len(b) bytes with an overlapped WSARecv. A graceful close
// by the peer is io.EOF; a deadline is os.ErrDeadlineExceeded, Close
// net.ErrClosed, both in a *net.OpError; a Winsock failure is a *net.OpError
// wrapping an *os.SyscallError wrapping the wsa.Errno. An empty b returns
// 0, nil at once.
func (c *Conn) Read(b []byte) (int, error) {
	n, _, err := c.fd.read(b, false)
	return n, c.fd.opErr("read", err)
}

// Write writes all of b with overlapped WSASends, unless an error (a
// deadline, Close, a reset) stops it; n is what was written.
func (c *Conn) Write(b []byte) (int, error) {
	n, err := c.fd.write(b, nil)
	return n, c.fd.opErr("write", err)
}

// Close closes the connection (closesocket), ending every blocked call with
// net.ErrClosed first.
func (c *Conn) Close() error { return c.fd.opErr("close", c.fd.Close()) }

// CloseRead shuts down the receiving side (shutdown SD_RECEIVE). Note the
// Windows rule: data that arrives afterwards resets the connection.
func (c *Conn) CloseRead() error { return c.fd.opErr("close", c.fd.shutdown(wsa.SD_RECEIVE)) }

// CloseWrite shuts down the sending side (shutdown SD_SEND): the peer reads
// io.EOF after the data sent.
func (c *Conn) CloseWrite() error { return c.fd.opErr("close", c.fd.shutdown(wsa.SD_SEND)) }

// LocalAddr returns the local address, a *net.TCPAddr.
func (c *Conn) LocalAddr() net.Addr { return c.fd.laddr }

// RemoteAddr returns the peer's address, a *net.TCPAddr.
func (c *Conn) RemoteAddr() net.Addr { return c.fd.raddr }

// SetDeadline sets the read and write deadlines; see SetReadDeadline.
func (c *Conn) SetDeadline(t time.Time) error {
	return c.fd.opErr("set", c.fd.setDeadline(t, true, true))
}

// SetReadDeadline sets the deadline of Read. It may be called while a Read
// is blocked: the Read wakes and waits for the new deadline instead. When
// the deadline passes, the pending WSARecv is cancelled (CancelIoEx) and
// Read returns os.ErrDeadlineExceeded once the cancellation has completed,
// unless data arrived first, which is returned. A zero t means no deadline.
func (c *Conn) SetReadDeadline(t time.Time) error {
	return c.fd.opErr("set", c.fd.setDeadline(t, true, false))
}

// SetWriteDeadline sets the deadline of Write, as SetReadDeadline does for
// Read. A Write that times out reports the bytes already written.
func (c *Conn) SetWriteDeadline(t time.Time) error {
	return c.fd.opErr("set", c.fd.setDeadline(t, false, true))
}

// SetNoDelay sets TCP_NODELAY (on by default, as in Go).
func (c *Conn) SetNoDelay(noDelay bool) error {
	return c.fd.opErr("set", c.fd.setsockoptInt(wsa.IPPROTO_TCP, wsa.TCP_NODELAY, boolInt(noDelay)))
}

// SetKeepAlive sets SO_KEEPALIVE.
func (c *Conn) SetKeepAlive(keepalive bool) error {
	return c.fd.opErr("set", c.fd.setsockoptInt(wsa.SOL_SOCKET, wsa.SO_KEEPALIVE, boolInt(keepalive)))
}

// SetKeepAlivePeriod sets the idle time before the first keep-alive probe
// and the interval between probes (TCP_KEEPALIVE, TCP_KEEPINTVL), rounded
// up to whole seconds.
func (c *Conn) SetKeepAlivePeriod(d time.Duration) error {
	secs := int32((d + time.Second - 1) / time.Second)
	if secs < 1 {
		secs = 1
	}
	if err := c.fd.setsockoptInt(wsa.IPPROTO_TCP, wsa.TCP_KEEPALIVE, secs); err != nil {
		return c.fd.opErr("set", err)
	}
	return c.fd.opErr("set", c.fd.setsockoptInt(wsa.IPPROTO_TCP, wsa.TCP_KEEPINTVL, secs))
}

// SetLinger sets SO_LINGER as net.TCPConn.SetLinger does: sec < 0 is the
// default graceful close, 0 an abortive close (RST), > 0 a graceful close
// that waits up to sec seconds.
func (c *Conn) SetLinger(sec int) error {
	if err := c.fd.incref(); err != nil {
		return c.fd.opErr("set", err)
	}
	defer c.fd.decref()
	l := wsa.Linger{}
	if sec >= 0 {
		l.Onoff, l.Linger = 1, uint16(min(sec, 0xffff))
	}
	return c.fd.opErr("set", sysErr("setsockopt", c.fd.s.SetsockoptLinger(c.fd.h, wsa.SOL_SOCKET, wsa.SO_LINGER, &l)))
}

// SetReadBuffer sets SO_RCVBUF.
func (c *Conn) SetReadBuffer(bytes int) error {
	return c.fd.opErr("set", c.fd.setsockoptInt(wsa.SOL_SOCKET, wsa.SO_RCVBUF, int32(bytes)))
}

// SetWriteBuffer sets SO_SNDBUF.
func (c *Conn) SetWriteBuffer(bytes int) error {
	return c.fd.opErr("set", c.fd.setsockoptInt(wsa.SOL_SOCKET, wsa.SO_SNDBUF, int32(bytes)))
}

// Handle returns the Winsock socket, for calls wsnet does not make (options,
// WSAIoctl). Do not close it or issue overlapped I/O on it: the Conn owns it.
func (c *Conn) Handle() wsa.Socket { return c.fd.h }

// Listener is a TCP listener over a Winsock Session: a net.Listener whose
// Accept uses AcceptEx.
type Listener struct {
	fd *netFD
}

var _ net.Listener = (*Listener)(nil)

// Listen listens on address ("host:port", an IP literal, "" or
// "localhost") on network "tcp", "tcp4" or "tcp6" of Session s. The
// wildcard address of "tcp" ("" or "0.0.0.0" or "::") is one IPv6 socket
// with IPV6_V6ONLY off, serving IPv4 too, as in Go. Port 0 picks a free
// port; Addr tells which.
func Listen(s *api.Session, network, address string) (net.Listener, error) {
	l, err := ListenTCP(s, network, address)
	if err != nil {
		return nil, err
	}
	return l, nil
}

// ListenTCP is Listen returning the *Listener.
func ListenTCP(s *api.Session, network, address string) (*Listener, error) {
	n, err := parseNetwork(network)
	if err == nil && n.sotype != wsa.SOCK_STREAM {
		err = net.UnknownNetworkError(network)
	}
	if err != nil {
		return nil, &net.OpError{Op: "listen", Net: network, Err: err}
	}
	ap, err := resolve(n, address, true)
	if err != nil {
		return nil, &net.OpError{Op: "listen", Net: network, Err: err}
	}
	af, dual := family(n, ap, true)
	laddr := &net.TCPAddr{IP: ap.Addr().AsSlice(), Port: int(ap.Port()), Zone: ap.Addr().Zone()}
	fail := func(err error) (*Listener, error) {
		return nil, &net.OpError{Op: "listen", Net: network, Addr: laddr, Err: err}
	}
	fd, err := socket(s, n, af, dual)
	if err != nil {
		return fail(err)
	}
	if err := fd.bind(sockaddr(af, ap)); err != nil {
		_ = fd.Close()
		return fail(err)
	}
	if err := fd.s.Listen(fd.h, wsa.SOMAXCONN); err != nil {
		_ = fd.Close()
		return fail(sysErr("listen", err))
	}
	fd.names()
	return &Listener{fd: fd}, nil
}

// Accept waits for the next connection: an overlapped AcceptEx on a fresh
// socket, then SO_UPDATE_ACCEPT_CONTEXT. Close and the deadline
// (SetDeadline) end it as they end a Read.
func (l *Listener) Accept() (net.Conn, error) {
	c, err := l.AcceptTCP()
	if err != nil {
		return nil, err
	}
	return c, nil
}

// AcceptTCP is Accept returning the *Conn.
func (l *Listener) AcceptTCP() (*Conn, error) {
	fd, err := l.fd.accept()
	if err != nil {
		return nil, &net.OpError{Op: "accept", Net: l.fd.net, Addr: l.fd.laddr, Err: err}
	}
	return newConn(fd), nil
}

// Close stops listening; blocked Accepts return net.ErrClosed.
func (l *Listener) Close() error {
	if err := l.fd.Close(); err != nil {
		return &net.OpError{Op: "close", Net: l.fd.net, Addr: l.fd.laddr, Err: err}
	}
	return nil
}

// Addr returns the listening address, a *net.TCPAddr.
func (l *Listener) Addr() net.Addr { return l.fd.laddr }

// SetDeadline sets the deadline of Accept; it may move while Accept is
// blocked. A zero t means none.
func (l *Listener) SetDeadline(t time.Time) error {
	if err := l.fd.setDeadline(t, true, false); err != nil {
		return &net.OpError{Op: "set", Net: l.fd.net, Addr: l.fd.laddr, Err: err}
	}
	return nil
}

// Handle returns the listening socket; see Conn.Handle.
func (l *Listener) Handle() wsa.Socket { return l.fd.h }

// Dialer connects to addresses over a Session, as net.Dialer does over the
// host's stack.
type Dialer struct {
	// Session is the Winsock Session to dial through; it must be set.
	Session *api.Session
	// LocalAddr, if set, is the local address to bind (a *net.TCPAddr for
	// TCP, *net.UDPAddr for UDP); else the socket binds the wildcard
	// address and an ephemeral port, as ConnectEx needs a bound socket.
	LocalAddr net.Addr
	// Timeout bounds the whole dial, as in net.Dialer; 0 is none (the
	// provider's connect timeout still applies).
	Timeout time.Duration
	// Deadline, if not zero, is when the dial fails.
	Deadline time.Time
	// KeepAlive, if positive, turns SO_KEEPALIVE on with this period.
	// Unlike net.Dialer, 0 leaves the provider's default (off, as on
	// Windows).
	KeepAlive time.Duration
}

// Dial is DialContext with context.Background().
func (d *Dialer) Dial(network, address string) (net.Conn, error) {
	return d.DialContext(context.Background(), network, address)
}

// DialContext connects to address on network ("tcp", "tcp4", "tcp6",
// "udp", "udp4", "udp6"). Addresses are "host:port" with an IP literal
// host, "localhost" or "" (the loopback address); host names are not
// resolved (a *net.DNSError). TCP binds the socket and connects with an
// overlapped ConnectEx, which ctx (and Timeout and Deadline) cancel with
// CancelIoEx: a cancelled dial matches context.Canceled, a timed-out one
// context.DeadlineExceeded and has Timeout() true. The result is a *Conn
// for TCP and a connected *PacketConn for UDP. Errors are *net.OpError
// with Op "dial".
func (d *Dialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	n, err := parseNetwork(network)
	if err != nil {
		return nil, &net.OpError{Op: "dial", Net: network, Source: d.LocalAddr, Err: err}
	}
	ap, err := resolve(n, address, false)
	if err != nil {
		return nil, &net.OpError{Op: "dial", Net: network, Source: d.LocalAddr, Err: err}
	}
	af, _ := family(n, ap, false)
	rsa := sockaddr(af, ap)
	raddr := netAddr(n.sotype, rsa)
	fail := func(err error) (net.Conn, error) {
		return nil, &net.OpError{Op: "dial", Net: network, Source: d.LocalAddr, Addr: raddr, Err: err}
	}
	if d.Session == nil {
		return fail(errNoSession)
	}
	if d.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d.Timeout)
		defer cancel()
	}
	if !d.Deadline.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, d.Deadline)
		defer cancel()
	}
	var lip netip.Addr
	var lport uint16
	if d.LocalAddr != nil {
		lap, err := addrPortOf(d.LocalAddr)
		if err != nil {
			return fail(err)
		}
		lport = lap.Port()
		if !lap.Addr().IsUnspecified() {
			if lap.Addr().Is4() != (af == wsa.AF_INET) {
				return fail(&net.AddrError{Err: errNoSuitableAddress.Error(), Addr: d.LocalAddr.String()})
			}
			lip = lap.Addr()
		}
	}
	if !lip.IsValid() {
		lip = netip.IPv6Unspecified()
		if af == wsa.AF_INET {
			lip = netip.IPv4Unspecified()
		}
	}
	local := sockaddr(af, netip.AddrPortFrom(lip, lport))
	fd, err := socket(d.Session, n, af, false)
	if err != nil {
		return fail(err)
	}
	if err := fd.bind(local); err != nil {
		_ = fd.Close()
		return fail(err)
	}
	if n.sotype == wsa.SOCK_DGRAM {
		if err := fd.s.Connect(fd.h, rsa); err != nil {
			_ = fd.Close()
			return fail(sysErr("connect", err))
		}
		fd.connected(raddr)
		return &PacketConn{fd: fd}, nil
	}
	if err := fd.connect(ctx, rsa); err != nil {
		_ = fd.Close()
		return fail(err)
	}
	fd.connected(raddr)
	c := newConn(fd)
	if d.KeepAlive > 0 {
		_ = c.SetKeepAlive(true)
		_ = c.SetKeepAlivePeriod(d.KeepAlive)
	}
	return c, nil
}

// Dial connects to address on network through Session s with a zero
// Dialer.
func Dial(s *api.Session, network, address string) (net.Conn, error) {
	d := Dialer{Session: s}
	return d.Dial(network, address)
}
