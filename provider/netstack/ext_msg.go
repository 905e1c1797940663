package netstack

import (
	"net/netip"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"

	"github.com/ws2go/ws2/provider/internal/wsp"
	"github.com/ws2go/ws2/wsa"
)

// WSARecvMsg, WSASendMsg and the IP_PKTINFO / IPV6_PKTINFO options.
//
// Both functions are for datagram sockets; a stream socket is
// WSAEOPNOTSUPP (MSL: "can only be used with datagrams and raw sockets";
// it names no code). With an OVERLAPPED on an overlapped socket they are
// operations of the receive or send queue, completed as WSARecv and WSASend
// are; otherwise they are ordinary calls that honour FIONBIO and the
// time-outs.

// WSARecvMsg is WSARecvMsg: one datagram into msg.Buffers, its source into
// msg.Name, control data into msg.Control (resliced to the bytes written)
// and the flags into msg.Flags, all written when the operation completes.
// msg.Flags in: MSG_PEEK (MSG_OOB is WSAEOPNOTSUPP, any other bit
// WSAEINVAL). Control data: IP_PKTINFO (IN_PKTINFO, level IPPROTO_IP: the
// datagram's destination address and the interface index) for an IPv4
// datagram when IP_PKTINFO is on, IPV6_PKTINFO (IN6_PKTINFO, level
// IPPROTO_IPV6) for an IPv6 datagram when IPV6_PKTINFO is on (also for an
// IPv4 datagram on a dual-stack socket without IP_PKTINFO, v4-mapped). Out
// flags: MSG_TRUNC with WSAEMSGSIZE when the datagram was larger than the
// buffers (bytes = the buffers' size, the rest discarded); MSG_CTRUNC when
// a control message did not fit (it is left out); MSG_BCAST or MSG_MCAST
// for a datagram sent to a broadcast or multicast address. An unbound socket
// is WSAEINVAL. *received is set when the call completes at once (also with
// WSAEMSGSIZE).
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
		// data and MSG_BCAST/MSG_MCAST; gVisor reports it when asked.
		ops := s.ep.SocketOptions()
		ops.SetReceivePacketInfo(true)
		if s.af == wsa.AF_INET6 {
			ops.SetIPv6ReceivePacketInfo(true)
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
		w := &scatterWriter{bufs: msg.Buffers, discard: true}
		res, err := s.tryRecvDgramResult(w, peek)
		if err != nil && err != wsa.WSAEMSGSIZE {
			return 0, 0, err
		}
		var out uint32
		if err == wsa.WSAEMSGSIZE {
			out |= wsa.MSG_TRUNC
		}
		var ctl []byte
		ctl, out = s.controlData(res.ControlMessages, control, out)
		msg.Name = fromFull(s.af, res.RemoteAddr)
		msg.Control = ctl
		msg.Flags = out
		return uint32(w.n), out, err
	}
	n, err := wsp.MsgCall(up, &s.ovq, &s.ovq.Recv, ov, cr, s.overlapped, &s.rd.Readiness, func() bool { return nonblocking }, s.rcvTimeout, try)
	if (err == nil || err == wsa.WSAEMSGSIZE) && received != nil {
		*received = n
	}
	return err
}

// controlData builds the control messages of a received datagram into
// buf's space (MSG_CTRUNC added to flags for one that does not fit) and
// adds MSG_BCAST or MSG_MCAST.
func (s *socket) controlData(cm tcpip.ReceivableControlMessages, buf []byte, flags uint32) ([]byte, uint32) {
	var ctl []byte
	var dst tcpip.Address
	nic := uint32(0)
	switch {
	case cm.HasIPPacketInfo:
		dst, nic = cm.PacketInfo.DestinationAddr, uint32(cm.PacketInfo.NIC)
		a4 := dst.As4()
		switch {
		case s.pktinfo4.Load():
			p := wsa.InPktinfo{Addr: a4, Ifindex: nic}
			ctl = wsa.CmsgAppend(ctl, wsa.IPPROTO_IP, wsa.IP_PKTINFO, p.Marshal())
		case s.af == wsa.AF_INET6 && s.pktinfo6.Load():
			p := wsa.In6Pktinfo{Addr: netip.AddrFrom4(a4).As16(), Ifindex: nic}
			p.Addr[10], p.Addr[11] = 0xff, 0xff
			ctl = wsa.CmsgAppend(ctl, wsa.IPPROTO_IPV6, wsa.IPV6_PKTINFO, p.Marshal())
		}
	case cm.HasIPv6PacketInfo:
		dst, nic = cm.IPv6PacketInfo.Addr, uint32(cm.IPv6PacketInfo.NIC)
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
	case dst.BitLen() == 32 && header.IsV4MulticastAddress(dst), dst.BitLen() == 128 && header.IsV6MulticastAddress(dst):
		flags |= wsa.MSG_MCAST
	case dst.BitLen() == 32 && s.isBroadcastDst(dst, tcpip.NICID(nic)):
		flags |= wsa.MSG_BCAST
	}
	return buf[:n], flags
}

// isBroadcastDst reports whether an IPv4 destination is the limited
// broadcast address or the subnet broadcast of an address of nic.
func (s *socket) isBroadcastDst(dst tcpip.Address, nic tcpip.NICID) bool {
	if dst.As4() == [4]byte{255, 255, 255, 255} {
		return true
	}
	for _, pa := range s.ss.p.gs.AllAddresses()[nic] {
		if pa.Protocol != ipv4Proto || pa.AddressWithPrefix.PrefixLen >= 31 {
			continue
		}
		sn := pa.AddressWithPrefix.Subnet()
		if sn.Broadcast() == dst {
			return true
		}
	}
	return false
}

// tryRecvDgramResult is tryRecvDgram keeping gVisor's whole read result
// (control messages and source).
func (s *socket) tryRecvDgramResult(w *scatterWriter, peek bool) (tcpip.ReadResult, error) {
	for {
		s.mu.Lock()
		ep, shut := s.ep, s.shutRecv
		icmp, report := s.icmpErr, s.opts.UDPConnReset
		s.icmpErr = false
		s.mu.Unlock()
		if shut {
			return tcpip.ReadResult{}, wsa.WSAESHUTDOWN
		}
		if icmp && report {
			return tcpip.ReadResult{}, wsa.WSAECONNRESET
		}
		res, terr := ep.Read(w, tcpip.ReadOptions{Peek: peek, NeedRemoteAddr: true})
		switch terr.(type) {
		case nil:
			if w.total > w.n {
				return res, wsa.WSAEMSGSIZE
			}
			return res, nil
		case *tcpip.ErrWouldBlock:
			return res, wsa.WSAEWOULDBLOCK
		case *tcpip.ErrConnectionRefused:
			if report {
				return res, wsa.WSAECONNRESET
			}
			continue
		case *tcpip.ErrClosedForReceive:
			if s.rd.IsClosed() {
				return res, wsa.WSAEINTR
			}
			return res, wsa.WSAESHUTDOWN
		default:
			return res, translate(terr)
		}
	}
}

// WSASendMsg is WSASendMsg: one datagram of msg.Buffers to msg.Name (nil:
// the connected peer), checked as sendto checks it. flags: MSG_DONTROUTE
// (ignored); MSG_OOB and MSG_PARTIAL are WSAEOPNOTSUPP; other bits
// WSAEINVAL. msg.Control may choose the source address:
//
//   - IPV6_PKTINFO (IPPROTO_IPV6, IN6_PKTINFO; AF_INET6 sockets) is passed
//     to gVisor: the source address (it must be one of the stack's,
//     else WSAEADDRNOTAVAIL) and/or the interface.
//   - IP_PKTINFO (IPPROTO_IP, IN_PKTINFO): gVisor cannot choose the source
//     of an IPv4 datagram per send, so only what it would do anyway is
//     honoured: the unspecified address, or the socket's own bound
//     address, with interface index 0 or an existing interface. Any other
//     source is WSAEINVAL (documented deviation).
//
// Any other control message, or a malformed one, is WSAEINVAL. *sent is set
// when the call completes at once.
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
	cm, err := s.sendControl(msg.Control)
	if err != nil {
		return err
	}
	bufs := msg.Buffers
	dst, total, err := s.prepSendDgram(bufs, flags, msg.Name)
	if err != nil {
		return err
	}
	try := func() (uint32, uint32, error) {
		if err := s.trySendDgramOpts(nil, bufs, tcpip.WriteOptions{To: dst, ControlMessages: cm}); err != nil {
			return 0, 0, err
		}
		return uint32(total), 0, nil
	}
	n, err := wsp.MsgCall(up, &s.ovq, &s.ovq.Send, ov, cr, s.overlapped, &s.rd.Readiness, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.opts.Nonblocking
	}, s.sndTimeout, try)
	if err == nil && sent != nil {
		*sent = n
	}
	return err
}

// sendControl turns WSASendMsg's control data into gVisor's.
func (s *socket) sendControl(b []byte) (tcpip.SendableControlMessages, error) {
	var cm tcpip.SendableControlMessages
	msgs, err := wsa.ParseControl(b)
	if err != nil {
		return cm, wsa.WSAEINVAL
	}
	for _, m := range msgs {
		switch {
		case m.Level == wsa.IPPROTO_IP && m.Type == wsa.IP_PKTINFO:
			p, err := wsa.UnmarshalInPktinfo(m.Data)
			if err != nil {
				return cm, wsa.WSAEINVAL
			}
			if err := s.checkPktinfo4(p); err != nil {
				return cm, err
			}
		case m.Level == wsa.IPPROTO_IPV6 && m.Type == wsa.IPV6_PKTINFO && s.af == wsa.AF_INET6:
			p, err := wsa.UnmarshalIn6Pktinfo(m.Data)
			if err != nil {
				return cm, wsa.WSAEINVAL
			}
			cm.HasIPv6PacketInfo = true
			cm.IPv6PacketInfo = tcpip.IPv6PacketInfo{Addr: tcpipAddr(netip.AddrFrom16(p.Addr)), NIC: tcpip.NICID(p.Ifindex)}
		default:
			return cm, wsa.WSAEINVAL
		}
	}
	return cm, nil
}

// checkPktinfo4 accepts an IN_PKTINFO that asks for what gVisor does
// anyway (see WSASendMsg).
func (s *socket) checkPktinfo4(p wsa.InPktinfo) error {
	if p.Ifindex != 0 && !s.ss.p.gs.HasNIC(tcpip.NICID(p.Ifindex)) {
		return wsa.WSAEINVAL
	}
	a := netip.AddrFrom4(p.Addr)
	if a.IsUnspecified() {
		return nil
	}
	s.mu.Lock()
	local, terr := s.ep.GetLocalAddress()
	s.mu.Unlock()
	if terr == nil {
		var la netip.Addr
		switch local.Addr.BitLen() {
		case 32:
			la = netip.AddrFrom4(local.Addr.As4())
		case 128:
			la = netip.AddrFrom16(local.Addr.As16()).Unmap()
		}
		if la == a {
			return nil
		}
	}
	return wsa.WSAEINVAL
}

// setPktinfoLocked is setsockopt(IP_PKTINFO or IPV6_PKTINFO), BOOL: whether
// WSARecvMsg returns the control message.
func (s *socket) setPktinfoLocked(v6 bool, b []byte) error {
	v, err := wsa.GetBool(b)
	if err != nil {
		return err
	}
	if v6 {
		s.pktinfo6.Store(v)
	} else {
		s.pktinfo4.Store(v)
	}
	return nil
}

// getPktinfoLocked is getsockopt(IP_PKTINFO or IPV6_PKTINFO).
func (s *socket) getPktinfoLocked(v6 bool, b []byte) (int32, error) {
	if v6 {
		return wsa.PutBool(b, s.pktinfo6.Load())
	}
	return wsa.PutBool(b, s.pktinfo4.Load())
}
