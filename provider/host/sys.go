package host

import (
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/ws2go/ws2/provider/internal/wsp"
	"github.com/ws2go/ws2/wsa"
)

// System calls on the kernel's sockets. Every descriptor is non-blocking;
// blocking Winsock calls wait on the readiness core, never in the kernel.

// Linux TCP states (include/net/tcp_states.h), as TCP_INFO reports them.
const (
	tcpEstablished = 1
	tcpSynSent     = 2
	tcpSynRecv     = 3
	tcpFinWait1    = 4
	tcpFinWait2    = 5
	tcpTimeWait    = 6
	tcpClose       = 7
	tcpCloseWait   = 8
	tcpLastAck     = 9
	tcpListen      = 10
	tcpClosing     = 11
)

// tcpState returns the kernel's state of a TCP socket (tcpClose if it
// cannot be read).
func tcpState(fd int) uint8 {
	info, err := unix.GetsockoptTCPInfo(fd, unix.IPPROTO_TCP, unix.TCP_INFO)
	if err != nil {
		return tcpClose
	}
	return info.State
}

// newSocketFD makes a non-blocking, close-on-exec kernel socket.
func newSocketFD(af, typ int32) (int, error) {
	domain := unix.AF_INET
	if af == wsa.AF_INET6 {
		domain = unix.AF_INET6
	}
	t, proto := unix.SOCK_STREAM, unix.IPPROTO_TCP
	if typ == wsa.SOCK_DGRAM {
		t, proto = unix.SOCK_DGRAM, unix.IPPROTO_UDP
	}
	fd, err := unix.Socket(domain, t|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, proto)
	if err != nil {
		return -1, translate(err)
	}
	return fd, nil
}

// revents polls fd once (timeout 0) and returns poll(2)'s revents for
// POLLIN, POLLOUT, POLLPRI and POLLRDHUP (POLLERR and POLLHUP come
// unasked).
func revents(fd int) int16 {
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN | unix.POLLOUT | unix.POLLPRI | unix.POLLRDHUP}}
	for {
		_, err := unix.Poll(fds, 0)
		if err != unix.EINTR {
			break
		}
	}
	return fds[0].Revents
}

// inq is SIOCINQ (FIONREAD): a stream's bytes readable, a datagram
// socket's next datagram size.
func inq(fd int) int {
	n, err := unix.IoctlGetInt(fd, unix.SIOCINQ)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// soError reads (and clears) the kernel's pending error of fd.
func soError(fd int) unix.Errno {
	v, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
	if err != nil {
		return 0
	}
	return unix.Errno(v)
}

// disconnect is connect(AF_UNSPEC): it dissolves a UDP association, ends a
// pending TCP connect, and resets an established TCP connection (RST),
// leaving the socket unconnected with its binding.
func disconnect(fd int) error {
	var sa [unix.SizeofSockaddrInet6]byte // sa_family 0: AF_UNSPEC
	_, _, e := unix.Syscall(unix.SYS_CONNECT, uintptr(fd), uintptr(unsafe.Pointer(&sa[0])), uintptr(len(sa)))
	if e != 0 {
		return e
	}
	return nil
}

// setLingerAbort sets SO_LINGER {1, 0}: the next close resets.
func setLingerAbort(fd int) {
	_ = unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0})
}

// abortFD resets (if connected) and closes fd.
func abortFD(fd int) {
	setLingerAbort(fd)
	unix.Close(fd)
}

// kernelAddr is a socket address in the kernel's form for a socket of
// family af: IPv4 addresses become v4-mapped on an AF_INET6 socket.
func kernelAddr(af int32, a wsp.Addr) unix.Sockaddr {
	return kernelSockaddr(af, a.AP.Addr(), a.Port(), a.Zone)
}

func kernelSockaddr(af int32, a netip.Addr, port uint16, zone uint32) unix.Sockaddr {
	if af == wsa.AF_INET {
		sa := &unix.SockaddrInet4{Port: int(port)}
		if a.IsValid() {
			sa.Addr = a.Unmap().As4()
		}
		return sa
	}
	sa := &unix.SockaddrInet6{Port: int(port), ZoneId: zone}
	if a.IsValid() {
		sa.Addr = a.As16()
	}
	return sa
}

// fromKernel converts a kernel address into the sockaddr of a socket of
// family af.
func fromKernel(af int32, sa unix.Sockaddr) wsa.Sockaddr {
	switch v := sa.(type) {
	case *unix.SockaddrInet4:
		return wsp.Sockaddr(af, netip.AddrFrom4(v.Addr), uint16(v.Port), 0)
	case *unix.SockaddrInet6:
		a := netip.AddrFrom16(v.Addr)
		if af == wsa.AF_INET6 {
			return &wsa.SockaddrInet6{Port: v.Port, Addr: v.Addr, ZoneId: v.ZoneId}
		}
		return wsp.Sockaddr(af, a, uint16(v.Port), v.ZoneId)
	}
	return wsp.Sockaddr(af, netip.Addr{}, 0, 0)
}

// fromRaw converts a raw kernel address (recvmsg's) into the sockaddr of a
// socket of family af.
func fromRaw(af int32, rsa *unix.RawSockaddrAny) wsa.Sockaddr {
	switch rsa.Addr.Family {
	case unix.AF_INET:
		p := (*unix.RawSockaddrInet4)(unsafe.Pointer(rsa))
		port := uint16(p.Port>>8 | p.Port<<8)
		return wsp.Sockaddr(af, netip.AddrFrom4(p.Addr), port, 0)
	case unix.AF_INET6:
		p := (*unix.RawSockaddrInet6)(unsafe.Pointer(rsa))
		port := uint16(p.Port>>8 | p.Port<<8)
		if af == wsa.AF_INET6 {
			return &wsa.SockaddrInet6{Port: int(port), Addr: p.Addr, ZoneId: p.Scope_id}
		}
		return wsp.Sockaddr(af, netip.AddrFrom16(p.Addr), port, p.Scope_id)
	}
	return wsp.Sockaddr(af, netip.Addr{}, 0, 0)
}

// rawAddr is a destination in the kernel's raw form, for sendmsg.
type rawAddr struct {
	v6  unix.RawSockaddrInet6
	v4  unix.RawSockaddrInet4
	len uint32
}

// set fills r for a destination of a socket of family af.
func (r *rawAddr) set(af int32, a wsp.Addr) {
	port := a.Port()
	if af == wsa.AF_INET {
		r.v4 = unix.RawSockaddrInet4{Family: unix.AF_INET, Addr: a.Unmapped().As4()}
		p := (*[2]byte)(unsafe.Pointer(&r.v4.Port))
		p[0], p[1] = byte(port>>8), byte(port)
		r.len = unix.SizeofSockaddrInet4
		return
	}
	r.v6 = unix.RawSockaddrInet6{Family: unix.AF_INET6, Addr: a.AP.Addr().As16(), Scope_id: a.Zone}
	p := (*[2]byte)(unsafe.Pointer(&r.v6.Port))
	p[0], p[1] = byte(port>>8), byte(port)
	r.len = unix.SizeofSockaddrInet6
}

func (r *rawAddr) ptr() unsafe.Pointer {
	if r.len == unix.SizeofSockaddrInet4 {
		return unsafe.Pointer(&r.v4)
	}
	return unsafe.Pointer(&r.v6)
}

// iovecs builds the iovec array of the non-empty buffers of bufs.
func iovecs(bufs [][]byte) []unix.Iovec {
	iov := make([]unix.Iovec, 0, len(bufs))
	for _, b := range bufs {
		if len(b) > 0 {
			v := unix.Iovec{Base: &b[0]}
			v.SetLen(len(b))
			iov = append(iov, v)
		}
	}
	return iov
}

// recvmsg is recvmsg(2) straight into bufs (no copy of ours), with the
// source into from (if not nil) and control data into oob. It returns the
// bytes received, the control bytes and the message flags (MSG_TRUNC for a
// datagram larger than bufs).
func recvmsg(fd int, bufs [][]byte, oob []byte, flags int, from *unix.RawSockaddrAny) (n, oobn, rflags int, err error) {
	iov := iovecs(bufs)
	var msg unix.Msghdr
	if from != nil {
		msg.Name = (*byte)(unsafe.Pointer(from))
		msg.Namelen = unix.SizeofSockaddrAny
	}
	if len(iov) > 0 {
		msg.Iov = &iov[0]
		msg.SetIovlen(len(iov))
	}
	if len(oob) > 0 {
		msg.Control = &oob[0]
		msg.SetControllen(len(oob))
	}
	for {
		r, _, e := unix.Syscall(unix.SYS_RECVMSG, uintptr(fd), uintptr(unsafe.Pointer(&msg)), uintptr(flags|unix.MSG_CMSG_CLOEXEC))
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return 0, 0, 0, e
		}
		return int(r), int(msg.Controllen), int(msg.Flags), nil
	}
}

// sendmsg is sendmsg(2) straight from bufs, to dst (nil: the connected
// peer), with control data oob. It never raises SIGPIPE.
func sendmsg(fd int, bufs [][]byte, oob []byte, flags int, dst *rawAddr) (int, error) {
	iov := iovecs(bufs)
	var msg unix.Msghdr
	if dst != nil {
		msg.Name = (*byte)(dst.ptr())
		msg.Namelen = dst.len
	}
	if len(iov) > 0 {
		msg.Iov = &iov[0]
		msg.SetIovlen(len(iov))
	}
	if len(oob) > 0 {
		msg.Control = &oob[0]
		msg.SetControllen(len(oob))
	}
	for {
		r, _, e := unix.Syscall(unix.SYS_SENDMSG, uintptr(fd), uintptr(unsafe.Pointer(&msg)), uintptr(flags|unix.MSG_NOSIGNAL))
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return 0, e
		}
		return int(r), nil
	}
}

// drainErrQueue empties a UDP socket's error queue (IP_RECVERR), so that
// its ICMP errors, once reported, do not keep it readable.
func drainErrQueue(fd int) {
	var buf [512]byte
	for range 64 {
		_, _, _, err := recvmsg(fd, nil, buf[:], unix.MSG_ERRQUEUE|unix.MSG_DONTWAIT, nil)
		if err != nil {
			return
		}
	}
}

// setInt is setsockopt for an int option.
func setInt(fd, level, opt, v int) error {
	return translate(unix.SetsockoptInt(fd, level, opt, v))
}

// boolInt is 1 for true.
func boolInt(v bool) int {
	if v {
		return 1
	}
	return 0
}

// unsafePointer converts a byte pointer for the kernel's structures.
func unsafePointer(b *byte) unsafe.Pointer { return unsafe.Pointer(b) }
