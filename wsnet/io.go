package wsnet

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"

	"github.com/ws2go/ws2/api"
	"github.com/ws2go/ws2/wsa"
)

// maxRW is the most one operation moves, as in Go's Windows poller.
const maxRW = 1 << 30

// socket makes an overlapped socket for network n and family af.
func socket(s *api.Session, n network, af int32, dualStack bool) (*netFD, error) {
	if s == nil {
		return nil, errNoSession
	}
	h, err := s.WSASocket(af, n.sotype, n.proto, nil, 0, wsa.WSA_FLAG_OVERLAPPED)
	if err != nil {
		return nil, os.NewSyscallError("wsasocket", err)
	}
	if dualStack {
		if err := s.SetsockoptInt(h, wsa.IPPROTO_IPV6, wsa.IPV6_V6ONLY, 0); err != nil {
			_ = s.Closesocket(h)
			return nil, os.NewSyscallError("setsockopt", err)
		}
	}
	if n.sotype == wsa.SOCK_DGRAM {
		// As Go does on Windows: an ICMP port unreachable must not fail the
		// next receive with WSAECONNRESET.
		var ret uint32
		_ = s.WSAIoctl(h, wsa.SIO_UDP_CONNRESET, make([]byte, 4), nil, &ret, nil, nil)
	}
	return newFD(s, h, af, n.sotype, n.name)
}

var errNoSession = errors.New("wsnet: no Session")

// sysErr wraps a Winsock error in an *os.SyscallError naming the call, as
// Go's net does ("wsarecv: ..."); other errors (net.ErrClosed,
// os.ErrDeadlineExceeded, context errors) pass unchanged.
func sysErr(call string, err error) error {
	if e, ok := err.(wsa.Errno); ok {
		return os.NewSyscallError(call, e)
	}
	return err
}

// opErr wraps err for the net.Conn method op, as Go's net does.
func (fd *netFD) opErr(op string, err error) error {
	if err == nil || err == io.EOF {
		return err
	}
	return &net.OpError{Op: op, Net: fd.net, Source: fd.laddr, Addr: fd.raddr, Err: err}
}

// read is a receive into b: WSARecv, or WSARecvFrom when from is true.
// A stream's graceful close is io.EOF; a datagram larger than b fills b
// and fails with WSAEMSGSIZE (the rest is discarded, as Windows does).
func (fd *netFD) read(b []byte, from bool) (int, wsa.Sockaddr, error) {
	if err := fd.incref(); err != nil {
		return 0, nil, err
	}
	defer fd.decref()
	fd.r.mu.Lock()
	defer fd.r.mu.Unlock()
	if len(b) > maxRW {
		b = b[:maxRW]
	}
	if len(b) == 0 && fd.sotype == wsa.SOCK_STREAM {
		// As on Unix: no zero-byte receive (which would wait for data).
		if fd.closing() {
			return 0, nil, net.ErrClosed
		}
		return 0, nil, nil
	}
	op := fd.r.nextOp()
	op.bufs[0] = b
	call := "wsarecv"
	var submit submitFunc
	if from {
		call = "wsarecvfrom"
		submit = func(op *ioOp) error {
			return fd.s.WSARecvFrom(fd.h, op.bufs[:], &op.n, &op.flags, &op.from, &op.ov, nil)
		}
	} else {
		submit = func(op *ioOp) error {
			return fd.s.WSARecv(fd.h, op.bufs[:], &op.n, &op.flags, &op.ov, nil)
		}
	}
	n, err := fd.execIO(&fd.r, op, submit, nil)
	if err == nil && n == 0 && fd.sotype == wsa.SOCK_STREAM {
		err = io.EOF
	}
	return int(n), op.from, sysErr(call, err)
}

// write sends all of b (stream; in pieces if it must) or b as one datagram
// (to, if not nil, is its destination).
func (fd *netFD) write(b []byte, to wsa.Sockaddr) (int, error) {
	if err := fd.incref(); err != nil {
		return 0, err
	}
	defer fd.decref()
	fd.w.mu.Lock()
	defer fd.w.mu.Unlock()
	call := "wsasend"
	if to != nil {
		call = "wsasendto"
	}
	if fd.sotype == wsa.SOCK_STREAM && len(b) == 0 {
		switch {
		case fd.closing():
			return 0, net.ErrClosed
		case fd.w.expired():
			return 0, os.ErrDeadlineExceeded
		}
		return 0, nil
	}
	nn := 0
	for {
		chunk := b[nn:min(len(b), nn+maxRW)]
		op := fd.w.nextOp()
		op.bufs[0] = chunk
		n, err := fd.execIO(&fd.w, op, func(op *ioOp) error {
			if to != nil {
				return fd.s.WSASendTo(fd.h, op.bufs[:], &op.n, 0, to, &op.ov, nil)
			}
			return fd.s.WSASend(fd.h, op.bufs[:], &op.n, 0, &op.ov, nil)
		}, nil)
		nn += int(n)
		if err != nil {
			return nn, sysErr(call, err)
		}
		if fd.sotype != wsa.SOCK_STREAM || nn >= len(b) {
			return nn, nil
		}
		if n == 0 {
			return nn, io.ErrShortWrite
		}
	}
}

// shutdown is shutdown(how).
func (fd *netFD) shutdown(how int32) error {
	if err := fd.incref(); err != nil {
		return err
	}
	defer fd.decref()
	return sysErr("shutdown", fd.s.Shutdown(fd.h, how))
}

// setsockoptInt is setsockopt with an int value.
func (fd *netFD) setsockoptInt(level, name, v int32) error {
	if err := fd.incref(); err != nil {
		return err
	}
	defer fd.decref()
	return sysErr("setsockopt", fd.s.SetsockoptInt(fd.h, level, name, v))
}

func boolInt(b bool) int32 {
	if b {
		return 1
	}
	return 0
}

// accept takes the next connection with AcceptEx on a fresh socket, and
// completes it with SO_UPDATE_ACCEPT_CONTEXT.
func (fd *netFD) accept() (*netFD, error) {
	if err := fd.incref(); err != nil {
		return nil, err
	}
	defer fd.decref()
	fd.r.mu.Lock()
	defer fd.r.mu.Unlock()
	switch {
	case fd.closing():
		return nil, net.ErrClosed
	case fd.r.expired():
		return nil, os.ErrDeadlineExceeded
	}
	n := network{name: fd.net, sotype: wsa.SOCK_STREAM, proto: wsa.IPPROTO_TCP}
	addrLen := uint32(wsa.SizeofSockaddrInet4 + 16)
	if fd.family == wsa.AF_INET6 {
		addrLen = wsa.SizeofSockaddrInet6 + 16
	}
	// The address blocks, then the listening handle for
	// SO_UPDATE_ACCEPT_CONTEXT: one allocation.
	buf := make([]byte, 2*addrLen+8)
	lh := buf[2*addrLen:]
	var a *netFD
	for {
		var err error
		if a, err = socket(fd.s, n, fd.family, false); err != nil {
			return nil, err
		}
		_, err = fd.execIO(&fd.r, fd.r.nextOp(), func(op *ioOp) error {
			return fd.s.AcceptEx(fd.h, a.h, buf, 0, addrLen, addrLen, &op.n, &op.ov)
		}, nil)
		if err == nil {
			break
		}
		_ = a.Close()
		if err != wsa.WSAECONNRESET {
			return nil, sysErr("acceptex", err)
		}
		// The client reset the connection before it was accepted: take
		// the next one, as Go does (ERROR_NETNAME_DELETED on Windows).
	}
	binary.LittleEndian.PutUint64(lh, uint64(fd.h))
	if err := fd.s.Setsockopt(a.h, wsa.SOL_SOCKET, wsa.SO_UPDATE_ACCEPT_CONTEXT, lh); err != nil {
		_ = a.Close()
		return nil, os.NewSyscallError("setsockopt", err)
	}
	local, remote, err := api.GetAcceptExSockaddrs(buf, 0, addrLen, addrLen)
	if err != nil {
		_ = a.Close()
		return nil, os.NewSyscallError("getacceptexsockaddrs", err)
	}
	a.laddr, a.raddr = tcpAddr(local), tcpAddr(remote)
	return a, nil
}

// connect connects a bound stream socket with ConnectEx, cancelled
// (CancelIoEx) when ctx is done. The deadline of ctx is the write
// direction's deadline during the call.
func (fd *netFD) connect(ctx context.Context, sa wsa.Sockaddr) error {
	if err := fd.incref(); err != nil {
		return err
	}
	defer fd.decref()
	fd.w.mu.Lock()
	defer fd.w.mu.Unlock()
	if dl, ok := ctx.Deadline(); ok {
		v := int64(dl.Sub(clockBase))
		if v == 0 {
			v = -1
		}
		fd.w.deadline.Store(v)
		defer fd.w.deadline.Store(0)
	}
	if ctx.Done() != nil {
		stop := context.AfterFunc(ctx, func() {
			if fd.incref() == nil { // not once Close may free the event
				_ = fd.s.WSASetEvent(fd.w.ev)
				fd.decref()
			}
		})
		defer stop()
	}
	_, err := fd.execIO(&fd.w, fd.w.nextOp(), func(op *ioOp) error {
		return fd.s.ConnectEx(fd.h, sa, nil, &op.n, &op.ov)
	}, ctx.Err)
	switch {
	case err == nil:
	case errors.Is(err, os.ErrDeadlineExceeded), err == context.DeadlineExceeded:
		return errTimeout
	case err == context.Canceled:
		return errCanceled
	default:
		return sysErr("connectex", err)
	}
	return sysErr("setsockopt", fd.s.Setsockopt(fd.h, wsa.SOL_SOCKET, wsa.SO_UPDATE_CONNECT_CONTEXT, nil))
}

// errTimeout is the error of a dial that ran out of time, as Go's: a
// net.Error with Timeout() true that matches both context.DeadlineExceeded
// and os.ErrDeadlineExceeded.
var errTimeout error = timeoutError{}

type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }
func (timeoutError) Is(err error) bool {
	return err == context.DeadlineExceeded || err == os.ErrDeadlineExceeded
}

// errCanceled is the error of a dial whose context was cancelled; it
// matches context.Canceled.
var errCanceled error = canceledError{}

type canceledError struct{}

func (canceledError) Error() string     { return "operation was canceled" }
func (canceledError) Is(err error) bool { return err == context.Canceled }
func (canceledError) Timeout() bool     { return false }
func (canceledError) Temporary() bool   { return false }

func (fd *netFD) bind(sa wsa.Sockaddr) error { return sysErr("bind", fd.s.Bind(fd.h, sa)) }

// names fills laddr from getsockname.
func (fd *netFD) names() {
	if sa, err := fd.s.Getsockname(fd.h); err == nil {
		fd.laddr = netAddr(fd.sotype, sa)
	}
}

// connected fills laddr from getsockname and sets raddr to the address the
// socket was connected to (what getpeername would return: the socket's
// family is the address's, so no mapping happens).
func (fd *netFD) connected(raddr net.Addr) {
	fd.names()
	fd.raddr = raddr
}
