package host

import (
	"encoding/binary"
	"time"

	"golang.org/x/sys/unix"

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
// WSAENOPROTOOPT. BOOL options are written as 4-byte ints. The options are
// those of the netstack provider (Windows names, values and units: see
// WSPSetSockOpt); the ones Winsock reports as set (buffer sizes, TOS,
// linger, time-outs, keep-alive times) come from the socket's own record,
// the others from the kernel.
func (ss *session) WSPGetSockOpt(h wsa.Socket, level, optname int32, optval []byte) (int32, error) {
	s, err := ss.lookup(h)
	if err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return wsp.SockOpt(wsp.OptLevels[int32]{Socket: s.getSocketOptLocked, TCP: s.getTCPOptLocked, IP: s.getIPOptLocked, IPv6: s.getIPv6OptLocked}, level, optname, optval)
}

// WSPSetSockOpt is setsockopt. SOL_SOCKET: SO_REUSEADDR,
// SO_EXCLUSIVEADDRUSE (the provider's bind table; WSAEINVAL once bound or
// both on one socket), SO_KEEPALIVE, SO_LINGER, SO_DONTLINGER (the
// provider's closesocket), SO_RCVBUF, SO_SNDBUF, SO_RCVTIMEO, SO_SNDTIMEO
// (DWORD ms, the provider's waits), SO_BROADCAST, SO_OOBINLINE,
// SO_UPDATE_ACCEPT_CONTEXT, SO_UPDATE_CONNECT_CONTEXT. IPPROTO_TCP:
// TCP_NODELAY, TCP_KEEPALIVE (= TCP_KEEPIDLE, s), TCP_KEEPINTVL (s),
// TCP_KEEPCNT. IPPROTO_IP: IP_TTL, IP_TOS, IP_MULTICAST_IF (an address, or
// 0.x.x.x an interface index), IP_MULTICAST_TTL, IP_MULTICAST_LOOP,
// IP_ADD_MEMBERSHIP, IP_DROP_MEMBERSHIP (ip_mreq), IP_PKTINFO.
// IPPROTO_IPV6: IPV6_V6ONLY (WSAEINVAL once bound), IPV6_UNICAST_HOPS,
// IPV6_MULTICAST_HOPS, IPV6_MULTICAST_LOOP, IPV6_ADD_MEMBERSHIP,
// IPV6_DROP_MEMBERSHIP (ipv6_mreq), IPV6_PKTINFO. The get-only options
// (SO_TYPE, SO_ERROR, SO_ACCEPTCONN, SO_PROTOCOL_INFOW, SO_CONNECT_TIME,
// SO_MAX_MSG_SIZE) fail WSAENOPROTOOPT. A short buffer is WSAEFAULT; a
// value Windows refuses, WSAEINVAL.
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
	case wsa.SO_RCVBUF, wsa.SO_SNDBUF:
		v, kopt := s.opts.RcvBuf, unix.SO_RCVBUF
		if name == wsa.SO_SNDBUF {
			v, kopt = s.opts.SndBuf, unix.SO_SNDBUF
		}
		if v < 0 {
			k, err := unix.GetsockoptInt(s.fd, unix.SOL_SOCKET, kopt)
			if err != nil {
				return 0, translate(err)
			}
			v = int32(k)
		}
		return wsa.PutInt32(b, v)
	case wsa.SO_MAX_MSG_SIZE:
		var v uint32
		if !s.stream {
			v = uint32(wsp.MaxUDP(s.af == wsa.AF_INET))
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
		if err := setInt(s.fd, unix.SOL_SOCKET, unix.SO_KEEPALIVE, boolInt(v)); err != nil {
			return err
		}
		s.opts.Keepalive = v
		return nil
	case wsa.SO_RCVBUF, wsa.SO_SNDBUF:
		v, err := wsa.GetInt32(b)
		if err != nil {
			return err
		}
		if v < 0 {
			return wsa.WSAEINVAL
		}
		if name == wsa.SO_RCVBUF {
			if err := setInt(s.fd, unix.SOL_SOCKET, unix.SO_RCVBUF, int(v)); err != nil {
				return err
			}
			s.opts.RcvBuf = v
		} else {
			if err := setInt(s.fd, unix.SOL_SOCKET, unix.SO_SNDBUF, int(v)); err != nil {
				return err
			}
			s.opts.SndBuf = v
		}
		return nil
	case wsa.SO_BROADCAST:
		v, err := wsa.GetBool(b)
		if err != nil {
			return err
		}
		if err := setInt(s.fd, unix.SOL_SOCKET, unix.SO_BROADCAST, boolInt(v)); err != nil {
			return err
		}
		s.opts.Broadcast = v
		return nil
	case wsa.SO_OOBINLINE:
		v, err := wsa.GetBool(b)
		if err != nil {
			return err
		}
		if s.stream {
			if err := setInt(s.fd, unix.SOL_SOCKET, unix.SO_OOBINLINE, boolInt(v)); err != nil {
				return err
			}
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
		if err := setInt(s.fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, boolInt(v)); err != nil {
			return err
		}
		s.opts.NoDelay = v
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
			// Linux allows at most 127 probes.
			if err := setInt(s.fd, unix.IPPROTO_TCP, unix.TCP_KEEPCNT, min(int(v), 127)); err != nil {
				return err
			}
		}
		s.opts.KeepCnt = int(v)
		return nil
	}
	return wsa.WSAENOPROTOOPT
}

// setKeepTimesLocked sets the keep-alive idle time (idle) or interval, in
// whole seconds for the kernel (at least 1).
func (s *socket) setKeepTimesLocked(idle bool, d time.Duration) error {
	secs := max(int((d+time.Second-1)/time.Second), 1)
	secs = min(secs, 32767) // MAX_TCP_KEEPIDLE, MAX_TCP_KEEPINTVL
	if idle {
		if err := setInt(s.fd, unix.IPPROTO_TCP, unix.TCP_KEEPIDLE, secs); err != nil {
			return err
		}
		s.opts.KeepIdle = d
		return nil
	}
	if err := setInt(s.fd, unix.IPPROTO_TCP, unix.TCP_KEEPINTVL, secs); err != nil {
		return err
	}
	s.opts.KeepIntvl = d
	return nil
}

func (s *socket) getIPOptLocked(name int32, b []byte) (int32, error) {
	switch name {
	case wsa.IP_TTL:
		v, err := unix.GetsockoptInt(s.fd, unix.IPPROTO_IP, unix.IP_TTL)
		if err != nil {
			return 0, translate(err)
		}
		return wsa.PutInt32(b, int32(v))
	case wsa.IP_TOS:
		return wsa.PutInt32(b, int32(max(s.opts.TOS, 0)))
	}
	if s.stream {
		return 0, wsa.WSAENOPROTOOPT
	}
	switch name {
	case wsa.IP_MULTICAST_IF:
		if len(b) < sizeofInAddr {
			return 0, wsa.WSAEFAULT
		}
		a, err := unix.GetsockoptInet4Addr(s.fd, unix.IPPROTO_IP, unix.IP_MULTICAST_IF)
		if err != nil {
			return 0, translate(err)
		}
		copy(b, a[:])
		return sizeofInAddr, nil
	case wsa.IP_MULTICAST_TTL:
		v, err := unix.GetsockoptInt(s.fd, unix.IPPROTO_IP, unix.IP_MULTICAST_TTL)
		if err != nil {
			return 0, translate(err)
		}
		return wsa.PutInt32(b, int32(v))
	case wsa.IP_MULTICAST_LOOP:
		v, err := unix.GetsockoptInt(s.fd, unix.IPPROTO_IP, unix.IP_MULTICAST_LOOP)
		if err != nil {
			return 0, translate(err)
		}
		return wsa.PutBool(b, v != 0)
	case wsa.IP_PKTINFO:
		return wsa.PutBool(b, s.pktinfo4.Load())
	}
	return 0, wsa.WSAENOPROTOOPT
}

func (s *socket) setIPOptLocked(name int32, b []byte) error {
	switch name {
	case wsa.IP_TTL:
		v, err := wsa.GetInt32(b)
		if err != nil {
			return err
		}
		if v < 0 || v > 255 {
			return wsa.WSAEINVAL
		}
		k := int(v)
		if k == 0 {
			k = -1 // the default
		}
		if err := setInt(s.fd, unix.IPPROTO_IP, unix.IP_TTL, k); err != nil {
			return err
		}
		s.opts.TTL = k
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
			if err := setInt(s.fd, unix.IPPROTO_IP, unix.IP_TOS, int(v)); err != nil {
				return err
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
		return translate(unix.SetsockoptIPMreqn(s.fd, unix.IPPROTO_IP, unix.IP_MULTICAST_IF, multicastIf(b[:4])))
	case wsa.IP_MULTICAST_TTL:
		v, err := wsa.GetInt32(b)
		if err != nil {
			return err
		}
		if v < 0 || v > 255 {
			return wsa.WSAEINVAL
		}
		return setInt(s.fd, unix.IPPROTO_IP, unix.IP_MULTICAST_TTL, int(v))
	case wsa.IP_MULTICAST_LOOP:
		v, err := wsa.GetBool(b)
		if err != nil {
			return err
		}
		return setInt(s.fd, unix.IPPROTO_IP, unix.IP_MULTICAST_LOOP, boolInt(v))
	case wsa.IP_PKTINFO:
		v, err := wsa.GetBool(b)
		if err != nil {
			return err
		}
		if err := setInt(s.fd, unix.IPPROTO_IP, unix.IP_PKTINFO, boolInt(v)); err != nil {
			return err
		}
		s.pktinfo4.Store(v)
		return nil
	case wsa.IP_ADD_MEMBERSHIP, wsa.IP_DROP_MEMBERSHIP:
		if len(b) < sizeofIPMreq {
			return wsa.WSAEFAULT
		}
		m := multicastIf(b[4:8])
		m.Multiaddr = [4]byte(b[0:4])
		if m.Multiaddr[0]&0xf0 != 0xe0 {
			return wsa.WSAEINVAL
		}
		opt := unix.IP_ADD_MEMBERSHIP
		if name == wsa.IP_DROP_MEMBERSHIP {
			opt = unix.IP_DROP_MEMBERSHIP
		}
		return translate(unix.SetsockoptIPMreqn(s.fd, unix.IPPROTO_IP, opt, m))
	}
	return wsa.WSAENOPROTOOPT
}

// multicastIf reads an interface given as an in_addr: an address of the
// interface, or (Windows' convention for 0.x.x.x) an interface index in
// network byte order.
func multicastIf(b []byte) *unix.IPMreqn {
	if b[0] == 0 && (b[1] != 0 || b[2] != 0 || b[3] != 0) {
		return &unix.IPMreqn{Ifindex: int32(binary.BigEndian.Uint32(b))}
	}
	return &unix.IPMreqn{Address: [4]byte(b)}
}

func (s *socket) getIPv6OptLocked(name int32, b []byte) (int32, error) {
	if s.af != wsa.AF_INET6 {
		return 0, wsa.WSAENOPROTOOPT
	}
	switch name {
	case wsa.IPV6_V6ONLY:
		return wsa.PutBool(b, s.opts.V6Only)
	case wsa.IPV6_UNICAST_HOPS:
		v, err := unix.GetsockoptInt(s.fd, unix.IPPROTO_IPV6, unix.IPV6_UNICAST_HOPS)
		if err != nil {
			return 0, translate(err)
		}
		return wsa.PutInt32(b, int32(v))
	}
	if s.stream {
		return 0, wsa.WSAENOPROTOOPT
	}
	switch name {
	case wsa.IPV6_MULTICAST_HOPS:
		v, err := unix.GetsockoptInt(s.fd, unix.IPPROTO_IPV6, unix.IPV6_MULTICAST_HOPS)
		if err != nil {
			return 0, translate(err)
		}
		return wsa.PutInt32(b, int32(v))
	case wsa.IPV6_MULTICAST_LOOP:
		v, err := unix.GetsockoptInt(s.fd, unix.IPPROTO_IPV6, unix.IPV6_MULTICAST_LOOP)
		if err != nil {
			return 0, translate(err)
		}
		return wsa.PutBool(b, v != 0)
	case wsa.IPV6_PKTINFO:
		return wsa.PutBool(b, s.pktinfo6.Load())
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
		if err := setInt(s.fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, boolInt(v)); err != nil {
			return err
		}
		s.opts.V6Only = v
		return nil
	case wsa.IPV6_UNICAST_HOPS:
		v, err := wsa.GetInt32(b)
		if err != nil {
			return err
		}
		if v < -1 || v > 255 {
			return wsa.WSAEINVAL
		}
		if err := setInt(s.fd, unix.IPPROTO_IPV6, unix.IPV6_UNICAST_HOPS, int(v)); err != nil {
			return err
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
		return setInt(s.fd, unix.IPPROTO_IPV6, unix.IPV6_MULTICAST_HOPS, int(v))
	case wsa.IPV6_MULTICAST_LOOP:
		v, err := wsa.GetBool(b)
		if err != nil {
			return err
		}
		return setInt(s.fd, unix.IPPROTO_IPV6, unix.IPV6_MULTICAST_LOOP, boolInt(v))
	case wsa.IPV6_PKTINFO:
		v, err := wsa.GetBool(b)
		if err != nil {
			return err
		}
		if err := setInt(s.fd, unix.IPPROTO_IPV6, unix.IPV6_RECVPKTINFO, boolInt(v)); err != nil {
			return err
		}
		s.pktinfo6.Store(v)
		return nil
	case wsa.IPV6_ADD_MEMBERSHIP, wsa.IPV6_DROP_MEMBERSHIP:
		if len(b) < sizeofIPv6Mreq {
			return wsa.WSAEFAULT
		}
		m := &unix.IPv6Mreq{Multiaddr: [16]byte(b[0:16]), Interface: binary.LittleEndian.Uint32(b[16:20])}
		if m.Multiaddr[0] != 0xff {
			return wsa.WSAEINVAL
		}
		opt := unix.IPV6_JOIN_GROUP
		if name == wsa.IPV6_DROP_MEMBERSHIP {
			opt = unix.IPV6_LEAVE_GROUP
		}
		return translate(unix.SetsockoptIPv6Mreq(s.fd, unix.IPPROTO_IPV6, opt, m))
	}
	return wsa.WSAENOPROTOOPT
}
