package netstack

import (
	"encoding/binary"
	"net/netip"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"

	"github.com/ws2go/ws2/provider/internal/wsp"
	"github.com/ws2go/ws2/wsa"
)

// Sizes of the option structures handled here.
const (
	sizeofIPMreq   = 8  // ip_mreq
	sizeofIPv6Mreq = 20 // ipv6_mreq
	sizeofInAddr   = 4
)

// WSPGetSockOpt is getsockopt: it writes the option into optval and returns
// the length written. A short buffer is WSAEFAULT, an unknown level
// WSAEINVAL, an option unknown at the level or not for this socket type
// WSAENOPROTOOPT. BOOL options are written as 4-byte ints.
//
// SOL_SOCKET: SO_TYPE, SO_ERROR (read clears it), SO_ACCEPTCONN,
// SO_REUSEADDR, SO_EXCLUSIVEADDRUSE, SO_KEEPALIVE, SO_LINGER (struct
// linger), SO_DONTLINGER, SO_RCVBUF, SO_SNDBUF, SO_RCVTIMEO, SO_SNDTIMEO
// (ms), SO_BROADCAST, SO_OOBINLINE, SO_PROTOCOL_INFOW (628 bytes),
// SO_CONNECT_TIME (s; 0xFFFFFFFF unconnected), SO_MAX_MSG_SIZE.
// IPPROTO_TCP: TCP_NODELAY, TCP_KEEPALIVE (=TCP_KEEPIDLE), TCP_KEEPINTVL
// (s), TCP_KEEPCNT. IPPROTO_IP: IP_TTL, IP_TOS, IP_MULTICAST_IF,
// IP_MULTICAST_TTL, IP_MULTICAST_LOOP, IP_PKTINFO. IPPROTO_IPV6:
// IPV6_V6ONLY, IPV6_UNICAST_HOPS, IPV6_MULTICAST_HOPS, IPV6_MULTICAST_LOOP,
// IPV6_PKTINFO (the PKTINFO options: datagram sockets, for WSARecvMsg).
func (ss *session) WSPGetSockOpt(h wsa.Socket, level, optname int32, optval []byte) (int32, error) {
	s, err := ss.lookup(h)
	if err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return wsp.SockOpt(wsp.OptLevels[int32]{Socket: s.getSocketOptLocked, TCP: s.getTCPOptLocked, IP: s.getIPOptLocked, IPv6: s.getIPv6OptLocked}, level, optname, optval)
}

// WSPSetSockOpt is setsockopt, for the options WSPGetSockOpt lists (the
// get-only ones fail WSAENOPROTOOPT), plus IP_ADD_MEMBERSHIP and
// IP_DROP_MEMBERSHIP (ip_mreq) and IPV6_ADD_MEMBERSHIP/IPV6_DROP_MEMBERSHIP
// (ipv6_mreq) on datagram sockets. A short buffer is WSAEFAULT; a value
// Windows refuses, WSAEINVAL. SO_REUSEADDR, SO_EXCLUSIVEADDRUSE and
// IPV6_V6ONLY fail WSAEINVAL once the socket is bound, and setting both
// address options on one socket fails WSAEINVAL. SO_UPDATE_ACCEPT_CONTEXT
// and SO_UPDATE_CONNECT_CONTEXT are set-only (see updateContext).
func (ss *session) WSPSetSockOpt(h wsa.Socket, level, optname int32, optval []byte) error {
	s, err := ss.lookup(h)
	if err != nil {
		return err
	}
	if level == wsa.SOL_SOCKET && (optname == wsa.SO_UPDATE_ACCEPT_CONTEXT || optname == wsa.SO_UPDATE_CONNECT_CONTEXT) {
		return ss.updateContext(s, optname, optval) // ext_accept.go
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err = wsp.SockOpt(wsp.OptLevels[struct{}]{Socket: wsp.SetOpt(s.setSocketOptLocked), TCP: wsp.SetOpt(s.setTCPOptLocked), IP: wsp.SetOpt(s.setIPOptLocked), IPv6: wsp.SetOpt(s.setIPv6OptLocked)}, level, optname, optval)
	return err
}

func (s *socket) getSocketOptLocked(name int32, b []byte) (int32, error) {
	if n, ok, err := wsp.GetSocketOpt(wsp.SockState{
		Opts: &s.opts, Info: &s.info, Type: s.typ, Stream: s.stream, Listening: s.listening,
		SoError: &s.soError, ConnectedAt: s.connectedAt,
		PollConnect: func() bool { return s.pollConnectLocked() == connDone },
	}, name, b); ok {
		return n, err
	}
	switch name {
	case wsa.SO_RCVBUF:
		v := s.opts.RcvBuf
		if v < 0 {
			v = int32(min(s.ep.SocketOptions().GetReceiveBufferSize(), 1<<31-1))
		}
		return wsa.PutInt32(b, v)
	case wsa.SO_SNDBUF:
		v := s.opts.SndBuf
		if v < 0 {
			v = int32(min(s.ep.SocketOptions().GetSendBufferSize(), 1<<31-1))
		}
		return wsa.PutInt32(b, v)
	case wsa.SO_MAX_MSG_SIZE:
		var v uint32
		switch {
		case s.stream:
			v = 0
		case s.raw != nil:
			v = uint32(s.rawLimitLocked()) // raw.go
		case s.af == wsa.AF_INET:
			v = maxUDP4
		default:
			v = maxUDP6
		}
		return wsa.PutUint32(b, v)
	}
	return 0, wsa.WSAENOPROTOOPT
}

func (s *socket) setSocketOptLocked(name int32, b []byte) error {
	if ok, err := s.opts.SetStored(s.stream, s.bound, name, b); ok {
		return err
	}
	switch name {
	case wsa.SO_KEEPALIVE:
		if !s.stream {
			return wsa.WSAENOPROTOOPT
		}
		v, err := wsa.GetBool(b)
		if err != nil {
			return err
		}
		s.opts.Keepalive = v
		s.ep.SocketOptions().SetKeepAlive(v)
		return nil
	case wsa.SO_RCVBUF, wsa.SO_SNDBUF:
		v, err := wsa.GetInt32(b)
		if err != nil {
			return err
		}
		if v < 0 {
			return wsa.WSAEINVAL
		}
		ops := s.ep.SocketOptions()
		if name == wsa.SO_RCVBUF {
			s.opts.RcvBuf = v
			ops.SetReceiveBufferSize(int64(v), true)
		} else {
			s.opts.SndBuf = v
			ops.SetSendBufferSize(int64(v), true)
		}
		return nil
	case wsa.SO_BROADCAST:
		v, err := wsa.GetBool(b)
		if err != nil {
			return err
		}
		s.opts.Broadcast = v
		s.ep.SocketOptions().SetBroadcast(v)
		return nil
	case wsa.SO_OOBINLINE:
		v, err := wsa.GetBool(b)
		if err != nil {
			return err
		}
		s.opts.OOBInline = v
		return nil
	}
	return wsa.WSAENOPROTOOPT
}

func (s *socket) getTCPOptLocked(name int32, b []byte) (int32, error) {
	if !s.stream {
		return 0, wsa.WSAENOPROTOOPT
	}
	switch name {
	case wsa.TCP_NODELAY:
		return wsa.PutBool(b, s.opts.NoDelay)
	case wsa.TCP_KEEPALIVE:
		return wsa.PutUint32(b, uint32(s.opts.KeepIdle/time.Second))
	case wsa.TCP_KEEPINTVL:
		return wsa.PutUint32(b, uint32(s.opts.KeepIntvl/time.Second))
	case wsa.TCP_KEEPCNT:
		return wsa.PutUint32(b, uint32(s.opts.KeepCnt))
	}
	return 0, wsa.WSAENOPROTOOPT
}

func (s *socket) setTCPOptLocked(name int32, b []byte) error {
	if !s.stream {
		return wsa.WSAENOPROTOOPT
	}
	switch name {
	case wsa.TCP_NODELAY:
		v, err := wsa.GetBool(b)
		if err != nil {
			return err
		}
		s.opts.NoDelay = v
		s.ep.SocketOptions().SetDelayOption(!v)
		return nil
	case wsa.TCP_KEEPALIVE, wsa.TCP_KEEPINTVL:
		v, err := wsa.GetUint32(b)
		if err != nil {
			return err
		}
		if v == 0 || v > 0x7fffffff/1000 {
			return wsa.WSAEINVAL
		}
		return s.setKeepTimesLocked(name == wsa.TCP_KEEPALIVE, time.Duration(v)*time.Second)
	case wsa.TCP_KEEPCNT:
		v, err := wsa.GetUint32(b)
		if err != nil {
			return err
		}
		if v > 255 {
			return wsa.WSAEINVAL
		}
		if v > 0 {
			if terr := s.ep.SetSockOptInt(tcpip.KeepaliveCountOption, int(v)); terr != nil {
				return translate(terr)
			}
		}
		s.opts.KeepCnt = int(v)
		return nil
	}
	return wsa.WSAENOPROTOOPT
}

// setKeepTimesLocked sets the keep-alive idle time (idle) or interval.
func (s *socket) setKeepTimesLocked(idle bool, d time.Duration) error {
	if idle {
		o := tcpip.KeepaliveIdleOption(d)
		if terr := s.ep.SetSockOpt(&o); terr != nil {
			return translate(terr)
		}
		s.opts.KeepIdle = d
		return nil
	}
	o := tcpip.KeepaliveIntervalOption(d)
	if terr := s.ep.SetSockOpt(&o); terr != nil {
		return translate(terr)
	}
	s.opts.KeepIntvl = d
	return nil
}

// defaultTTL returns the stack's default TTL (hop limit) for IPv4 or IPv6.
func (s *socket) defaultTTL(v6 bool) int {
	var o tcpip.DefaultTTLOption
	n := ipv4Proto
	if v6 {
		n = ipv6Proto
	}
	if err := s.ss.p.gs.NetworkProtocolOption(n, &o); err != nil {
		return 64
	}
	return int(o)
}

func (s *socket) getIPOptLocked(name int32, b []byte) (int32, error) {
	switch name {
	case wsa.IP_TTL:
		v := s.opts.TTL
		if v <= 0 {
			v = s.defaultTTL(false)
		}
		return wsa.PutInt32(b, int32(v))
	case wsa.IP_TOS:
		return wsa.PutInt32(b, int32(max(s.opts.TOS, 0)))
	case wsa.IP_HDRINCL:
		return s.getHdrinclLocked(b) // raw.go
	}
	if s.stream {
		return 0, wsa.WSAENOPROTOOPT
	}
	switch name {
	case wsa.IP_MULTICAST_IF:
		if len(b) < sizeofInAddr {
			return 0, wsa.WSAEFAULT
		}
		var o tcpip.MulticastInterfaceOption
		if terr := s.ep.GetSockOpt(&o); terr != nil {
			return 0, translate(terr)
		}
		var a [4]byte
		if o.InterfaceAddr.BitLen() == 32 {
			a = o.InterfaceAddr.As4()
		}
		copy(b, a[:])
		return sizeofInAddr, nil
	case wsa.IP_MULTICAST_TTL:
		v, terr := s.ep.GetSockOptInt(tcpip.MulticastTTLOption)
		if terr != nil {
			return 0, translate(terr)
		}
		return wsa.PutInt32(b, int32(v))
	case wsa.IP_MULTICAST_LOOP:
		return wsa.PutBool(b, s.ep.SocketOptions().GetMulticastLoop())
	case wsa.IP_PKTINFO:
		return s.getPktinfoLocked(false, b) // ext_msg.go
	}
	return 0, wsa.WSAENOPROTOOPT
}

func (s *socket) setIPOptLocked(name int32, b []byte) error {
	switch name {
	case wsa.IP_HDRINCL:
		return s.setHdrinclLocked(b) // raw.go
	case wsa.IP_TTL:
		v, err := wsa.GetInt32(b)
		if err != nil {
			return err
		}
		if v < 0 || v > 255 {
			return wsa.WSAEINVAL
		}
		if terr := s.ep.SetSockOptInt(tcpip.IPv4TTLOption, int(v)); terr != nil {
			return translate(terr)
		}
		s.opts.TTL = int(v)
		return nil
	case wsa.IP_TOS:
		v, err := wsa.GetInt32(b)
		if err != nil {
			return err
		}
		if v < 0 || v > 255 {
			return wsa.WSAEINVAL
		}
		if s.af == wsa.AF_INET {
			if terr := s.ep.SetSockOptInt(tcpip.IPv4TOSOption, int(v)); terr != nil {
				return translate(terr)
			}
		}
		s.opts.TOS = int(v)
		return nil
	}
	if s.stream {
		return wsa.WSAENOPROTOOPT
	}
	switch name {
	case wsa.IP_MULTICAST_IF:
		if len(b) < sizeofInAddr {
			return wsa.WSAEFAULT
		}
		o := s.multicastIf(b[:4])
		if terr := s.ep.SetSockOpt(&o); terr != nil {
			return translate(terr)
		}
		return nil
	case wsa.IP_MULTICAST_TTL:
		v, err := wsa.GetInt32(b)
		if err != nil {
			return err
		}
		if v < 0 || v > 255 {
			return wsa.WSAEINVAL
		}
		return translate(s.ep.SetSockOptInt(tcpip.MulticastTTLOption, int(v)))
	case wsa.IP_MULTICAST_LOOP:
		v, err := wsa.GetBool(b)
		if err != nil {
			return err
		}
		s.ep.SocketOptions().SetMulticastLoop(v)
		return nil
	case wsa.IP_PKTINFO:
		return s.setPktinfoLocked(false, b) // ext_msg.go
	case wsa.IP_ADD_MEMBERSHIP, wsa.IP_DROP_MEMBERSHIP:
		if len(b) < sizeofIPMreq {
			return wsa.WSAEFAULT
		}
		group := netip.AddrFrom4([4]byte(b[0:4]))
		if !group.IsMulticast() {
			return wsa.WSAEINVAL
		}
		ifc := s.multicastIf(b[4:8])
		m := tcpip.MembershipOption{NIC: ifc.NIC, InterfaceAddr: ifc.InterfaceAddr, MulticastAddr: tcpipAddr(group)}
		if name == wsa.IP_ADD_MEMBERSHIP {
			o := tcpip.AddMembershipOption(m)
			return translate(s.ep.SetSockOpt(&o))
		}
		o := tcpip.RemoveMembershipOption(m)
		return translate(s.ep.SetSockOpt(&o))
	}
	return wsa.WSAENOPROTOOPT
}

// multicastIf reads an interface given as an in_addr: an address of the
// interface, or (Windows' convention for 0.x.x.x) an interface index in
// network byte order.
func (s *socket) multicastIf(b []byte) tcpip.MulticastInterfaceOption {
	if b[0] == 0 && (b[1] != 0 || b[2] != 0 || b[3] != 0) {
		return tcpip.MulticastInterfaceOption{NIC: tcpip.NICID(binary.BigEndian.Uint32(b))}
	}
	a := netip.AddrFrom4([4]byte(b))
	return tcpip.MulticastInterfaceOption{InterfaceAddr: tcpipAddr(a)}
}

func (s *socket) getIPv6OptLocked(name int32, b []byte) (int32, error) {
	if s.af != wsa.AF_INET6 {
		return 0, wsa.WSAENOPROTOOPT
	}
	switch name {
	case wsa.IPV6_V6ONLY:
		return wsa.PutBool(b, s.opts.V6Only)
	case wsa.IPV6_UNICAST_HOPS:
		v := s.opts.Hops
		if v < 0 {
			v = s.defaultTTL(true)
		}
		return wsa.PutInt32(b, int32(v))
	}
	if s.stream {
		return 0, wsa.WSAENOPROTOOPT
	}
	switch name {
	case wsa.IPV6_MULTICAST_HOPS:
		v, terr := s.ep.GetSockOptInt(tcpip.MulticastTTLOption)
		if terr != nil {
			return 0, translate(terr)
		}
		return wsa.PutInt32(b, int32(v))
	case wsa.IPV6_MULTICAST_LOOP:
		return wsa.PutBool(b, s.ep.SocketOptions().GetMulticastLoop())
	case wsa.IPV6_PKTINFO:
		return s.getPktinfoLocked(true, b) // ext_msg.go
	}
	return 0, wsa.WSAENOPROTOOPT
}

func (s *socket) setIPv6OptLocked(name int32, b []byte) error {
	if s.af != wsa.AF_INET6 {
		return wsa.WSAENOPROTOOPT
	}
	switch name {
	case wsa.IPV6_V6ONLY:
		v, err := wsa.GetBool(b)
		if err != nil {
			return err
		}
		if s.bound || s.conn != connNone || s.udpPeer {
			return wsa.WSAEINVAL
		}
		s.opts.V6Only = v
		s.ep.SocketOptions().SetV6Only(v)
		return nil
	case wsa.IPV6_UNICAST_HOPS:
		v, err := wsa.GetInt32(b)
		if err != nil {
			return err
		}
		if v < -1 || v > 255 {
			return wsa.WSAEINVAL
		}
		if terr := s.ep.SetSockOptInt(tcpip.IPv6HopLimitOption, int(v)); terr != nil {
			return translate(terr)
		}
		s.opts.Hops = int(v)
		return nil
	}
	if s.stream {
		return wsa.WSAENOPROTOOPT
	}
	switch name {
	case wsa.IPV6_MULTICAST_HOPS:
		v, err := wsa.GetInt32(b)
		if err != nil {
			return err
		}
		if v < -1 || v > 255 {
			return wsa.WSAEINVAL
		}
		if v == -1 {
			v = 1
		}
		return translate(s.ep.SetSockOptInt(tcpip.MulticastTTLOption, int(v)))
	case wsa.IPV6_MULTICAST_LOOP:
		v, err := wsa.GetBool(b)
		if err != nil {
			return err
		}
		s.ep.SocketOptions().SetMulticastLoop(v)
		return nil
	case wsa.IPV6_PKTINFO:
		return s.setPktinfoLocked(true, b) // ext_msg.go
	case wsa.IPV6_ADD_MEMBERSHIP, wsa.IPV6_DROP_MEMBERSHIP:
		if len(b) < sizeofIPv6Mreq {
			return wsa.WSAEFAULT
		}
		group := netip.AddrFrom16([16]byte(b[0:16]))
		if !group.IsMulticast() {
			return wsa.WSAEINVAL
		}
		m := tcpip.MembershipOption{NIC: tcpip.NICID(binary.LittleEndian.Uint32(b[16:20])), MulticastAddr: tcpipAddr(group)}
		if name == wsa.IPV6_ADD_MEMBERSHIP {
			o := tcpip.AddMembershipOption(m)
			return translate(s.ep.SetSockOpt(&o))
		}
		o := tcpip.RemoveMembershipOption(m)
		return translate(s.ep.SetSockOpt(&o))
	}
	return wsa.WSAENOPROTOOPT
}
