package netstack

import (
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/waiter"

	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/provider/internal/wsp"
	"github.com/ws2go/ws2/wsa"
)

// Raw sockets (SOCK_RAW on the [RAW/IP] and [RAW/IPv6] entries): the
// socket's protocol n (0..255) is the IP protocol field. See the package
// documentation ("Raw sockets") for the rules and the deviations.

// Largest raw datagrams sendto accepts (and SO_MAX_MSG_SIZE): an IPv4
// payload (65535 minus the 20-byte header), a whole IPv4 datagram with
// IP_HDRINCL, an IPv6 payload (no jumbograms).
const (
	maxRaw4       = 65535 - header.IPv4MinimumSize
	maxRawHdrincl = 65535
	maxRaw6       = 65535
)

// rawState is what a SOCK_RAW socket keeps besides the datagram state it
// shares with UDP (bound, udpPeer, shutSend, ...). Guarded by socket.mu.
type rawState struct {
	hdrincl bool              // IP_HDRINCL: the application supplies the IPv4 header
	recv    bool              // the endpoint receives (gVisor demultiplexes the protocol)
	peer    tcpip.FullAddress // the connected peer while udpPeer (gVisor's raw endpoints do not report it)
}

// rawSocket is WSPSocket for a SOCK_RAW catalog entry. af, typ and
// protocol FROM_PROTOCOL_INFO take info's values. A family other than
// info's is WSAEAFNOSUPPORT, a type other than SOCK_RAW
// WSAESOCKTNOSUPPORT, a protocol outside info's range (0..255)
// WSAEPROTONOSUPPORT, a group WSAEINVAL; then a caller without the
// privilege (Provider.RawAllowed) fails WSAEACCES, as a non-Administrator
// does on Windows.
func (ss *session) rawSocket(up provider.UpcallTable, af, typ, protocol int32, info *wsa.ProtocolInfo, g uint32, flags uint32) (wsa.Socket, error) {
	if af == wsa.FROM_PROTOCOL_INFO {
		af = info.AddressFamily
	}
	if typ == wsa.FROM_PROTOCOL_INFO {
		typ = info.SocketType
	}
	if protocol == wsa.FROM_PROTOCOL_INFO {
		protocol = info.Protocol
	}
	switch {
	case af != info.AddressFamily || af != wsa.AF_INET && af != wsa.AF_INET6:
		return wsa.INVALID_SOCKET, wsa.WSAEAFNOSUPPORT
	case typ != wsa.SOCK_RAW:
		return wsa.INVALID_SOCKET, wsa.WSAESOCKTNOSUPPORT
	case protocol < 0 || protocol > 255 || !info.MatchesProtocol(protocol):
		return wsa.INVALID_SOCKET, wsa.WSAEPROTONOSUPPORT
	case g != 0:
		return wsa.INVALID_SOCKET, wsa.WSAEINVAL
	case !ss.p.RawAllowed():
		return wsa.INVALID_SOCKET, wsa.WSAEACCES
	}
	s := &socket{
		ss:         ss,
		info:       *info,
		af:         af,
		typ:        typ,
		proto:      protocol,
		overlapped: flags&wsa.WSA_FLAG_OVERLAPPED != 0,
		opts:       wsp.DefaultOpts(af),
		raw:        &rawState{},
		netProto:   ipv4Proto,
		transProto: tcpip.TransportProtocolNumber(protocol),
	}
	if af == wsa.AF_INET6 {
		s.netProto = ipv6Proto
	}
	ep, wq, err := s.newRawEndpoint()
	if err != nil {
		return wsa.INVALID_SOCKET, err
	}
	s.applyOpts(ep, &s.opts)
	return ss.register(up, s, ep, wq)
}

// newRawEndpoint creates the gVisor raw endpoint of the socket's family and
// protocol, with IP_HDRINCL as the socket has it. gVisor demultiplexes
// (and so delivers to raw endpoints) only the protocols it implements
// (ICMP, ICMPv6, TCP, UDP); for any other IPv4 protocol the endpoint is a
// send-only one (gVisor's "unassociated" endpoint, with the header built
// by the stack unless IP_HDRINCL), and for any other IPv6 protocol, which
// gVisor can neither send nor receive, the socket fails
// WSAEPROTONOSUPPORT. s.mu is held or s is not yet shared.
func (s *socket) newRawEndpoint() (tcpip.Endpoint, *waiter.Queue, error) {
	gs := s.ss.p.gs
	wq := new(waiter.Queue)
	ep, terr := gs.NewRawEndpoint(s.transProto, s.netProto, wq, true)
	switch terr.(type) {
	case nil:
		s.raw.recv = true
	case *tcpip.ErrUnknownProtocol, *tcpip.ErrNotSupported:
		if s.af != wsa.AF_INET {
			return nil, nil, wsa.WSAEPROTONOSUPPORT
		}
		ep, terr = gs.NewRawEndpoint(s.transProto, s.netProto, wq, false)
		if terr != nil {
			return nil, nil, translate(terr)
		}
		s.raw.recv = false
	default:
		return nil, nil, translate(terr)
	}
	ep.SocketOptions().SetHeaderIncluded(s.raw.hdrincl)
	return ep, wq, nil
}

// renewRawLocked replaces the endpoint with a fresh one carrying the
// socket's options and local address: gVisor's raw endpoints cannot
// dissolve a connection. Datagrams queued on the old endpoint are lost.
func (s *socket) renewRawLocked() error {
	ep, wq, err := s.newRawEndpoint()
	if err != nil {
		return err
	}
	s.applyOpts(ep, &s.opts)
	if s.bindAddr.Addr.Len() != 0 {
		if terr := ep.Bind(s.bindAddr); terr != nil {
			ep.Close()
			return translate(terr)
		}
	}
	old := s.ep
	s.ep = ep
	s.rd.attach(wq)
	old.Close()
	return nil
}

// rawLimitLocked is the largest datagram sendto takes (SO_MAX_MSG_SIZE).
func (s *socket) rawLimitLocked() int {
	switch {
	case s.af == wsa.AF_INET6:
		return maxRaw6
	case s.raw.hdrincl:
		return maxRawHdrincl
	}
	return maxRaw4
}

// checkRawPeerLocked applies Winsock's rules to a raw destination (the
// port is ignored): the unspecified address is WSAEADDRNOTAVAIL, a
// v4-mapped address on an AF_INET6 socket WSAEAFNOSUPPORT (raw IPv6
// sockets carry IPv6 only), the limited broadcast address without
// SO_BROADCAST WSAEACCES.
func (s *socket) checkRawPeerLocked(a sockAddr) error {
	switch {
	case a.isUnspecified():
		return wsa.WSAEADDRNOTAVAIL
	case s.af == wsa.AF_INET6 && a.AP.Addr().Is4In6():
		return wsa.WSAEAFNOSUPPORT
	case wsp.IsLimitedBroadcast(a.unmapped()) && !s.opts.Broadcast:
		return wsa.WSAEACCES
	}
	return nil
}

// bindRawLocked is bind on a raw socket: a local address (or the
// unspecified one) and no port, so the bind table is not involved. The
// address must be one of the stack's (else WSAEADDRNOTAVAIL); receives
// are then limited to datagrams sent to it.
func (s *socket) bindRawLocked(a sockAddr) error {
	if s.bound {
		return wsa.WSAEINVAL
	}
	if s.af == wsa.AF_INET6 && a.AP.Addr().Is4In6() {
		return wsa.WSAEADDRNOTAVAIL
	}
	fa := a.full()
	fa.Port = 0
	if !a.isUnspecified() {
		if s.ss.p.gs.CheckLocalAddress(fa.NIC, s.netProto, fa.Addr) == 0 {
			return wsa.WSAEADDRNOTAVAIL
		}
		if terr := s.ep.Bind(fa); terr != nil {
			return translate(terr)
		}
	}
	s.bound, s.bindAddr = true, fa
	return nil
}

// connectRaw is connect on a raw socket: the default destination of send,
// and receives limited to datagrams from it; the unspecified address
// dissolves the association.
func (s *socket) connectRaw(a sockAddr) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a.isUnspecified() {
		if s.udpPeer {
			if err := s.renewRawLocked(); err != nil {
				return err
			}
			s.udpPeer, s.raw.peer = false, tcpip.FullAddress{}
		}
		return nil
	}
	if err := s.checkRawPeerLocked(a); err != nil {
		return err
	}
	fa := a.full()
	fa.Port = 0
	if terr := s.ep.Connect(fa); terr != nil {
		return translate(terr)
	}
	s.udpPeer, s.raw.peer, s.bound = true, fa, true
	return nil
}

// rawPeerNameLocked is getpeername on a raw socket.
func (s *socket) rawPeerNameLocked() (wsa.Sockaddr, error) {
	if !s.udpPeer {
		return nil, wsa.WSAENOTCONN
	}
	return fromFull(s.af, s.raw.peer), nil
}

// prepSendRaw makes the checks of a raw send (as prepSendDgram for UDP) and
// binds the socket implicitly; it returns the destination (nil: the
// connected peer) and the datagram's size. Flags other than MSG_DONTROUTE
// are WSAEINVAL or WSAEOPNOTSUPP as for UDP; a datagram larger than
// rawLimitLocked is WSAEMSGSIZE.
func (s *socket) prepSendRaw(bufs [][]byte, f uint32, to wsa.Sockaddr) (*tcpip.FullAddress, int, error) {
	if f&^wsp.SendFlags != 0 {
		return nil, 0, wsa.WSAEINVAL
	}
	if f&(wsa.MSG_OOB|wsa.MSG_PARTIAL) != 0 {
		return nil, 0, wsa.WSAEOPNOTSUPP
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shutSend {
		return nil, 0, wsa.WSAESHUTDOWN
	}
	var dst *tcpip.FullAddress
	if to != nil {
		a, err := parseAddr(s.af, to)
		if err == nil {
			err = s.checkRawPeerLocked(a)
		}
		if err != nil {
			return nil, 0, err
		}
		fa := a.full()
		fa.Port = 0
		dst = &fa
	} else if !s.udpPeer {
		return nil, 0, wsa.WSAENOTCONN
	}
	total := bufLen(bufs)
	if total > s.rawLimitLocked() {
		return nil, 0, wsa.WSAEMSGSIZE
	}
	s.bound = true // the implicit bind: no port to reserve
	return dst, total, nil
}

// sendRaw is sendto on a raw socket (sendDgram's counterpart): one
// datagram of all the buffers, whose first bytes are the IP payload (the
// ICMP header for an ICMP socket, with the checksum the application
// computed), or the IPv4 header with IP_HDRINCL.
func (s *socket) sendRaw(bufs [][]byte, f uint32, to wsa.Sockaddr) (int, error) {
	dst, total, err := s.prepSendRaw(bufs, f, to)
	if err != nil {
		return 0, err
	}
	s.mu.Lock()
	nonblocking := s.opts.Nonblocking
	s.mu.Unlock()
	err = s.rd.Block(nonblocking, s.sndTimeout(), func() error {
		return s.trySendDgram(bufs, dst)
	})
	if err != nil {
		return 0, err
	}
	return total, nil
}

// getHdrinclLocked is getsockopt(IPPROTO_IP, IP_HDRINCL): a BOOL, for raw
// IPv4 sockets only (WSAENOPROTOOPT otherwise).
func (s *socket) getHdrinclLocked(b []byte) (int32, error) {
	if s.raw == nil || s.af != wsa.AF_INET {
		return 0, wsa.WSAENOPROTOOPT
	}
	return wsa.PutBool(b, s.raw.hdrincl)
}

// setHdrinclLocked is setsockopt(IPPROTO_IP, IP_HDRINCL): with TRUE, the
// data of each send starts with the IPv4 header. The stack fills in the
// total length and the checksum always, the source address and the
// identification when they are zero (as Windows and Linux do).
func (s *socket) setHdrinclLocked(b []byte) error {
	if s.raw == nil || s.af != wsa.AF_INET {
		return wsa.WSAENOPROTOOPT
	}
	v, err := wsa.GetBool(b)
	if err != nil {
		return err
	}
	s.raw.hdrincl = v
	s.ep.SocketOptions().SetHeaderIncluded(v)
	return nil
}
