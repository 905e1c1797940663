package host

import (
	"encoding/binary"
	"net/netip"

	"golang.org/x/sys/unix"

	"github.com/ws2go/ws2/provider/internal/wsp"
	"github.com/ws2go/ws2/wsa"
)

// WSARecvMsg, WSASendMsg and the IP_PKTINFO / IPV6_PKTINFO options.
//
// Both functions are for datagram sockets; a stream socket is
// WSAEOPNOTSUPP. With an OVERLAPPED on an overlapped socket they are
// operations of the receive or send queue, completed as WSARecv and WSASend
// are; otherwise they are ordinary calls that honour FIONBIO and the
// time-outs. Control data is translated between Windows' layout
// (WSACMSGHDR, IN_PKTINFO, IN6_PKTINFO) and the kernel's.

// kernelCtlSize is the control buffer WSARecvMsg gives the kernel: room
// for an in_pktinfo and an in6_pktinfo.
const kernelCtlSize = 128

// WSARecvMsg is WSARecvMsg: one datagram into msg.Buffers, its source into
// msg.Name, control data into msg.Control (resliced to the bytes written)
// and the flags into msg.Flags, all written when the operation completes.
// msg.Flags in: MSG_PEEK (MSG_OOB is WSAEOPNOTSUPP, any other bit
// WSAEINVAL). Control data: IP_PKTINFO (IN_PKTINFO: the datagram's
// destination address and the interface index) for an IPv4 datagram when
// IP_PKTINFO is on, IPV6_PKTINFO (IN6_PKTINFO) for an IPv6 datagram when
// IPV6_PKTINFO is on (also for an IPv4 datagram on a dual-stack socket
// without IP_PKTINFO, v4-mapped). Out flags: MSG_TRUNC with WSAEMSGSIZE
// when the datagram was larger than the buffers (bytes = the buffers'
// size, the rest discarded); MSG_CTRUNC when a control message did not fit
// (it is left out); MSG_MCAST for a datagram sent to a multicast address,
// MSG_BCAST to the limited broadcast address (a subnet-directed broadcast
// is not recognized: the kernel does not tell). An unbound socket is
// WSAEINVAL. *received is set when the call completes at once (also with
// WSAEMSGSIZE, whose completion is delivered when overlapped).
func (ss *session) WSARecvMsg(h wsa.Socket, msg *wsa.WSAMsg, received *uint32, ov *wsa.Overlapped, cr wsa.CompletionRoutine) error {
	s, up, err := ss.extSocket(h)
	if err != nil {
		return err
	}
	if msg == nil {
		return wsa.WSAEFAULT
	}
	if s.stream {
		return wsa.WSAEOPNOTSUPP
	}
	f := msg.Flags
	switch {
	case f&wsa.MSG_OOB != 0:
		return wsa.WSAEOPNOTSUPP
	case f&^wsa.MSG_PEEK != 0:
		return wsa.WSAEINVAL
	}
	s.mu.Lock()
	bound, shut, nonblocking := s.bound, s.shutRecv, s.opts.Nonblocking
	if bound {
		// The destination of each datagram is needed for the control
		// data and MSG_BCAST/MSG_MCAST; the kernel reports it when asked.
		_ = setInt(s.fd, unix.IPPROTO_IP, unix.IP_PKTINFO, 1)
		if s.af == wsa.AF_INET6 {
			_ = setInt(s.fd, unix.IPPROTO_IPV6, unix.IPV6_RECVPKTINFO, 1)
		}
	}
	s.mu.Unlock()
	switch {
	case !bound:
		return wsa.WSAEINVAL
	case shut:
		return wsa.WSAESHUTDOWN
	}
	defer s.rd.Events.Reenable(wsa.FD_READ | wsa.FD_OOB)
	peek := f&wsa.MSG_PEEK != 0
	control := msg.Control
	try := func() (uint32, uint32, error) {
		var kctl [kernelCtlSize]byte
		n, src, res, err := s.tryRecvDgramMsg(msg.Buffers, peek, kctl[:])
		if err != nil && err != wsa.WSAEMSGSIZE {
			return 0, 0, err
		}
		var out uint32
		if err == wsa.WSAEMSGSIZE {
			out |= wsa.MSG_TRUNC
		}
		var ctl []byte
		ctl, out = s.controlData(kctl[:res.oobn], control, out)
		msg.Name = src
		msg.Control = ctl
		msg.Flags = out
		return uint32(n), out, err
	}
	n, err := wsp.MsgCall(up, &s.ovq, &s.ovq.Recv, ov, cr, s.overlapped, &s.rd, func() bool { return nonblocking }, s.rcvTimeout, try)
	if (err == nil || err == wsa.WSAEMSGSIZE) && received != nil {
		*received = n
	}
	return err
}

// controlData builds the Windows control messages of a received datagram
// from the kernel's (raw) into buf's space (MSG_CTRUNC added to flags for
// one that does not fit) and adds MSG_BCAST or MSG_MCAST.
func (s *socket) controlData(raw []byte, buf []byte, flags uint32) ([]byte, uint32) {
	var dst netip.Addr
	var nic uint32
	msgs, _ := unix.ParseSocketControlMessage(raw)
	for _, m := range msgs {
		switch {
		case m.Header.Level == unix.IPPROTO_IP && m.Header.Type == unix.IP_PKTINFO && len(m.Data) >= unix.SizeofInet4Pktinfo:
			// struct in_pktinfo { int ipi_ifindex; in_addr ipi_spec_dst, ipi_addr; }
			nic = binary.NativeEndian.Uint32(m.Data[0:4])
			dst = netip.AddrFrom4([4]byte(m.Data[8:12]))
		case m.Header.Level == unix.IPPROTO_IPV6 && m.Header.Type == unix.IPV6_PKTINFO && len(m.Data) >= unix.SizeofInet6Pktinfo:
			// struct in6_pktinfo { in6_addr ipi6_addr; int ipi6_ifindex; }
			if !dst.IsValid() {
				dst = netip.AddrFrom16([16]byte(m.Data[0:16])).Unmap()
				nic = binary.NativeEndian.Uint32(m.Data[16:20])
			}
		}
	}
	var ctl []byte
	switch {
	case dst.Is4():
		switch {
		case s.pktinfo4.Load():
			p := wsa.InPktinfo{Addr: dst.As4(), Ifindex: nic}
			ctl = wsa.CmsgAppend(ctl, wsa.IPPROTO_IP, wsa.IP_PKTINFO, p.Marshal())
		case s.af == wsa.AF_INET6 && s.pktinfo6.Load():
			p := wsa.In6Pktinfo{Addr: netip.AddrFrom4(dst.As4()).As16(), Ifindex: nic}
			p.Addr[10], p.Addr[11] = 0xff, 0xff
			ctl = wsa.CmsgAppend(ctl, wsa.IPPROTO_IPV6, wsa.IPV6_PKTINFO, p.Marshal())
		}
	case dst.Is6():
		if s.pktinfo6.Load() {
			p := wsa.In6Pktinfo{Addr: dst.As16(), Ifindex: nic}
			ctl = wsa.CmsgAppend(ctl, wsa.IPPROTO_IPV6, wsa.IPV6_PKTINFO, p.Marshal())
		}
	}
	if len(ctl) > len(buf) {
		flags |= wsa.MSG_CTRUNC
		ctl = nil // the one record does not fit
	}
	n := copy(buf, ctl)
	switch {
	case dst.IsMulticast():
		flags |= wsa.MSG_MCAST
	case wsp.IsLimitedBroadcast(dst):
		flags |= wsa.MSG_BCAST
	}
	return buf[:n], flags
}

// WSASendMsg is WSASendMsg: one datagram of msg.Buffers to msg.Name (nil:
// the connected peer), checked as sendto checks it. flags: MSG_DONTROUTE
// (ignored); MSG_OOB and MSG_PARTIAL are WSAEOPNOTSUPP; other bits
// WSAEINVAL. msg.Control may choose the source address and interface,
// passed to the kernel: IP_PKTINFO (IPPROTO_IP, IN_PKTINFO: ipi_spec_dst
// and the interface) and, on AF_INET6 sockets, IPV6_PKTINFO (IPPROTO_IPV6,
// IN6_PKTINFO). A source address that is not one of the host's is
// WSAEINVAL for IPv4 and WSAEADDRNOTAVAIL for IPv6 (the netstack
// provider's answers). Any other control message, or a malformed one, is
// WSAEINVAL. *sent is set when the call completes at once.
func (ss *session) WSASendMsg(h wsa.Socket, msg *wsa.WSAMsg, flags uint32, sent *uint32, ov *wsa.Overlapped, cr wsa.CompletionRoutine) error {
	s, up, err := ss.extSocket(h)
	if err != nil {
		return err
	}
	if msg == nil {
		return wsa.WSAEFAULT
	}
	if s.stream {
		return wsa.WSAEOPNOTSUPP
	}
	kctl, err := s.sendControl(msg.Control)
	if err != nil {
		return err
	}
	bufs := msg.Buffers
	dst, total, err := s.prepSendDgram(bufs, flags, msg.Name)
	if err != nil {
		return err
	}
	try := func() (uint32, uint32, error) {
		if err := s.trySendDgram(bufs, dst, kctl); err != nil {
			return 0, 0, err
		}
		return uint32(total), 0, nil
	}
	n, err := wsp.MsgCall(up, &s.ovq, &s.ovq.Send, ov, cr, s.overlapped, &s.rd, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.opts.Nonblocking
	}, s.sndTimeout, try)
	if err == nil && sent != nil {
		*sent = n
	}
	return err
}

// sendControl turns WSASendMsg's control data into the kernel's,
// checking that a chosen source address is the host's.
func (s *socket) sendControl(b []byte) ([]byte, error) {
	msgs, err := wsa.ParseControl(b)
	if err != nil {
		return nil, wsa.WSAEINVAL
	}
	var out []byte
	for _, m := range msgs {
		switch {
		case m.Level == wsa.IPPROTO_IP && m.Type == wsa.IP_PKTINFO:
			p, err := wsa.UnmarshalInPktinfo(m.Data)
			if err != nil {
				return nil, wsa.WSAEINVAL
			}
			src := netip.AddrFrom4(p.Addr)
			if !src.IsUnspecified() && !isLocal(wsa.AF_INET, src) {
				return nil, wsa.WSAEINVAL
			}
			data := make([]byte, unix.SizeofInet4Pktinfo)
			binary.NativeEndian.PutUint32(data[0:4], p.Ifindex)
			copy(data[4:8], p.Addr[:]) // ipi_spec_dst: the source
			out = appendCmsg(out, unix.IPPROTO_IP, unix.IP_PKTINFO, data)
		case m.Level == wsa.IPPROTO_IPV6 && m.Type == wsa.IPV6_PKTINFO && s.af == wsa.AF_INET6:
			p, err := wsa.UnmarshalIn6Pktinfo(m.Data)
			if err != nil {
				return nil, wsa.WSAEINVAL
			}
			src := netip.AddrFrom16(p.Addr)
			if !src.IsUnspecified() && !isLocal(wsa.AF_INET6, src) {
				return nil, wsa.WSAEADDRNOTAVAIL
			}
			data := make([]byte, unix.SizeofInet6Pktinfo)
			copy(data[0:16], p.Addr[:])
			binary.NativeEndian.PutUint32(data[16:20], p.Ifindex)
			out = appendCmsg(out, unix.IPPROTO_IPV6, unix.IPV6_PKTINFO, data)
		default:
			return nil, wsa.WSAEINVAL
		}
	}
	return out, nil
}

// appendCmsg appends a kernel control message.
func appendCmsg(b []byte, level, typ int, data []byte) []byte {
	space := unix.CmsgSpace(len(data))
	off := len(b)
	b = append(b, make([]byte, space)...)
	h := (*unix.Cmsghdr)(unsafePointer(&b[off]))
	h.Level, h.Type = int32(level), int32(typ)
	h.SetLen(unix.CmsgLen(len(data)))
	copy(b[off+unix.CmsgLen(0):], data)
	return b
}

// isLocal reports whether a is an address of the host: whether a socket
// of family af can be bound to it.
func isLocal(af int32, a netip.Addr) bool {
	fd, err := newSocketFD(af, wsa.SOCK_DGRAM)
	if err != nil {
		return false
	}
	defer unix.Close(fd)
	if af == wsa.AF_INET6 {
		_ = setInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 0)
	}
	return unix.Bind(fd, kernelSockaddr(af, a, 0, 0)) == nil
}
