package api

import (
	"reflect"

	"github.com/ws2go/ws2/wsa"
)

// checkSockaddr validates an address the application passes: nil (when not
// allowed) and a typed nil pointer are WSAEFAULT (C: a NULL name), a port
// outside 0-65535 is WSAEINVAL (C cannot express one).
func checkSockaddr(sa wsa.Sockaddr, nilOK bool) error {
	switch a := sa.(type) {
	case nil:
		if nilOK {
			return nil
		}
		return wsa.WSAEFAULT
	case *wsa.SockaddrInet4:
		if a == nil {
			return wsa.WSAEFAULT
		}
		if a.Port < 0 || a.Port > 0xffff {
			return wsa.WSAEINVAL
		}
	case *wsa.SockaddrInet6:
		if a == nil {
			return wsa.WSAEFAULT
		}
		if a.Port < 0 || a.Port > 0xffff {
			return wsa.WSAEINVAL
		}
	default:
		if v := reflect.ValueOf(sa); v.Kind() == reflect.Pointer && v.IsNil() {
			return wsa.WSAEFAULT
		}
	}
	return nil
}

// Socket is socket: WSASocket(af, typ, protocol, nil, 0,
// WSA_FLAG_OVERLAPPED), or with no flags when the Session's SO_OPENTYPE is
// set (see Setsockopt).
func (s *Session) Socket(af, typ, protocol int32) (wsa.Socket, error) {
	inst, err := s.started()
	if err != nil {
		return wsa.INVALID_SOCKET, err
	}
	var flags uint32 = wsa.WSA_FLAG_OVERLAPPED
	if inst.openType.Load() != 0 {
		flags = 0
	}
	return s.WSASocket(af, typ, protocol, nil, 0, flags)
}

// WSASocket is WSASocketW. The catalog entry is chosen as spec §3.9 says
// (provider.Catalog.Select): info's entry when info is given, else the first
// base or chain entry in catalog order that supports the triple. Its provider
// is started on first use (see the package doc), and its WSPSocket gets af,
// typ and protocol unmodified (FROM_PROTOCOL_INFO included) with the entry's
// protocol information. Calls on the returned handle go to that provider.
//
// A non-zero g is WSAEINVAL (groups are obsolete). The ReactOS retry after a
// provider's WSAEINPROGRESS is not done: the error is returned.
func (s *Session) WSASocket(af, typ, protocol int32, info *wsa.ProtocolInfo, g uint32, flags uint32) (wsa.Socket, error) {
	inst, err := s.enter()
	if err != nil {
		return wsa.INVALID_SOCKET, err
	}
	defer inst.gate.leave()
	e, _, _, _, err := inst.catalog.Select(af, typ, protocol, info, g)
	if err != nil {
		return wsa.INVALID_SOCKET, err
	}
	p, err := inst.load(&e)
	if err != nil {
		return wsa.INVALID_SOCKET, err
	}
	pi := e.Info
	h, err := p.procs.WSPSocket(af, typ, protocol, &pi, g, flags)
	return inst.adopt(p, h, err, flags&wsa.WSA_FLAG_OVERLAPPED != 0)
}

// adopt takes a handle a provider returned from WSPSocket, WSPAccept or
// WSPJoinLeaf: calls on it go to p from now on. A provider that fails
// without an error code, or returns a value that is not a socket handle of
// the Session, is WSASYSCALLFAILURE. A socket born while WSACleanup runs is
// closed at once (WSANOTINITIALISED). overlapped records whether the socket
// takes overlapped calls (WSA_FLAG_OVERLAPPED, or inherited by accept).
func (inst *instance) adopt(p *loadedProvider, h wsa.Socket, err error, overlapped bool) (wsa.Socket, error) {
	if err != nil {
		return wsa.INVALID_SOCKET, providerErr(err)
	}
	so := inst.table.socket(h)
	if so == nil {
		return wsa.INVALID_SOCKET, wsa.WSASYSCALLFAILURE
	}
	so.prov.Store(p)
	so.nonOverlapped.Store(!overlapped)
	if inst.dead.Load() {
		inst.reap(so)
		return wsa.INVALID_SOCKET, wsa.WSANOTINITIALISED
	}
	return h, nil
}

// Bind is bind. A nil name is WSAEFAULT.
func (s *Session) Bind(h wsa.Socket, name wsa.Sockaddr) error {
	_, so, p, err := s.sock(h)
	if err != nil {
		return err
	}
	defer so.gate.leave()
	if err := checkSockaddr(name, false); err != nil {
		return err
	}
	return providerErr(p.procs.WSPBind(h, name))
}

// Listen is listen. backlog may be SOMAXCONN or SOMAXCONN_HINT(n).
func (s *Session) Listen(h wsa.Socket, backlog int32) error {
	_, so, p, err := s.sock(h)
	if err != nil {
		return err
	}
	defer so.gate.leave()
	return providerErr(p.procs.WSPListen(h, backlog))
}

// Accept is accept: the new socket and the peer's address.
func (s *Session) Accept(h wsa.Socket) (wsa.Socket, wsa.Sockaddr, error) {
	return s.WSAAccept(h, nil, 0)
}

// WSAAccept is WSAAccept: cond (may be nil) decides with CF_ACCEPT,
// CF_REJECT or CF_DEFER (spec §2.2). The new socket's calls go to the
// provider that served the listening socket; it is overlapped-capable if the
// listening socket is. cond runs inside the provider
// call: it must not call WSACleanup on the Session.
func (s *Session) WSAAccept(h wsa.Socket, cond wsa.ConditionProc, callbackData uintptr) (wsa.Socket, wsa.Sockaddr, error) {
	inst, so, p, err := s.sock(h)
	if err != nil {
		return wsa.INVALID_SOCKET, nil, err
	}
	defer so.gate.leave()
	nh, addr, err := p.procs.WSPAccept(h, cond, callbackData)
	nh, err = inst.adopt(p, nh, err, !so.nonOverlapped.Load())
	if err != nil {
		return wsa.INVALID_SOCKET, nil, err
	}
	return nh, addr, nil
}

// Connect is connect. A nil name is WSAEFAULT.
func (s *Session) Connect(h wsa.Socket, name wsa.Sockaddr) error {
	return s.WSAConnect(h, name, nil, nil, nil, nil)
}

// WSAConnect is WSAConnect. Connect data and QoS are passed to the provider
// as given (TCP/IP providers refuse them with WSAEOPNOTSUPP). A nil name is
// WSAEFAULT.
func (s *Session) WSAConnect(h wsa.Socket, name wsa.Sockaddr, callerData, calleeData []byte, sqos, gqos *wsa.QOS) error {
	_, so, p, err := s.sock(h)
	if err != nil {
		return err
	}
	defer so.gate.leave()
	if err := checkSockaddr(name, false); err != nil {
		return err
	}
	return providerErr(p.procs.WSPConnect(h, name, callerData, calleeData, sqos, gqos))
}

// Shutdown is shutdown; how outside SD_RECEIVE, SD_SEND, SD_BOTH is
// WSAEINVAL.
func (s *Session) Shutdown(h wsa.Socket, how int32) error {
	_, so, p, err := s.sock(h)
	if err != nil {
		return err
	}
	defer so.gate.leave()
	if how < wsa.SD_RECEIVE || how > wsa.SD_BOTH {
		return wsa.WSAEINVAL
	}
	return providerErr(p.procs.WSPShutdown(h, how))
}

// Closesocket is closesocket. The provider closes the socket (ending calls
// blocked on it from other goroutines, with WSAEINTR) and frees the handle
// with WPUCloseSocketHandle; once WSPCloseSocket succeeds the api frees the
// handle too if the provider did not. The value may be reused by the next
// socket at once. If the provider fails (WSAEWOULDBLOCK for a lingering
// non-blocking socket) the handle stays valid. WSPCloseSocket runs once per
// socket: a Closesocket racing another, or WSACleanup, on the same socket
// fails with WSAENOTSOCK (WSANOTINITIALISED once WSACleanup has begun).
func (s *Session) Closesocket(h wsa.Socket) error {
	inst, so, p, err := s.sock(h)
	if err != nil {
		return err
	}
	defer so.gate.leave()
	if !so.closing.CompareAndSwap(false, true) {
		// Another Closesocket, or WSACleanup, is closing it.
		if inst.dead.Load() {
			return wsa.WSANOTINITIALISED
		}
		return wsa.WSAENOTSOCK
	}
	if err := p.procs.WSPCloseSocket(h); err != nil {
		so.closing.Store(false)
		if inst.dead.Load() {
			// WSACleanup began meanwhile and may have passed this socket
			// over: close it as WSACleanup does.
			inst.reap(so)
		}
		return providerErr(err)
	}
	inst.forget(so)
	return nil
}

// Getsockname is getsockname.
func (s *Session) Getsockname(h wsa.Socket) (wsa.Sockaddr, error) {
	_, so, p, err := s.sock(h)
	if err != nil {
		return nil, err
	}
	defer so.gate.leave()
	return addrResult(p.procs.WSPGetSockName(h))
}

// Getpeername is getpeername.
func (s *Session) Getpeername(h wsa.Socket) (wsa.Sockaddr, error) {
	_, so, p, err := s.sock(h)
	if err != nil {
		return nil, err
	}
	defer so.gate.leave()
	return addrResult(p.procs.WSPGetPeerName(h))
}

// addrResult checks an address a provider returned: no address and no
// error is WSASYSCALLFAILURE.
func addrResult(sa wsa.Sockaddr, err error) (wsa.Sockaddr, error) {
	if err != nil {
		return nil, providerErr(err)
	}
	if checkSockaddr(sa, false) != nil {
		return nil, wsa.WSASYSCALLFAILURE
	}
	return sa, nil
}
