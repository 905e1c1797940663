package api

import (
	"encoding/binary"

	"github.com/ws2go/ws2/wsa"
)

// isOpenType reports the SO_OPENTYPE option, which the api answers itself
// for any socket value, as ws2_32 does (setsockopt(INVALID_SOCKET,
// SOL_SOCKET, SO_OPENTYPE, ...) is the usual call).
func isOpenType(level, optname int32) bool {
	return level == wsa.SOL_SOCKET && optname == wsa.SO_OPENTYPE
}

// Getsockopt is getsockopt: it fills optval and returns the length written
// (the C *optlen). A short buffer is WSAEFAULT, an unknown option
// WSAENOPROTOOPT (the provider's answers).
//
// SOL_SOCKET/SO_OPENTYPE is answered by the api for any s (the Session's
// value, see Setsockopt).
func (s *Session) Getsockopt(h wsa.Socket, level, optname int32, optval []byte) (int32, error) {
	if isOpenType(level, optname) {
		inst, err := s.started()
		if err != nil {
			return 0, err
		}
		return wsa.PutInt32(optval, inst.openType.Load())
	}
	_, so, p, err := s.sock(h)
	if err != nil {
		return 0, err
	}
	defer so.gate.leave()
	n, err := p.procs.WSPGetSockOpt(h, level, optname, optval)
	if err != nil {
		return 0, providerErr(err)
	}
	if n < 0 || int(n) > len(optval) {
		return 0, wsa.WSASYSCALLFAILURE // the provider wrote outside the buffer
	}
	return n, nil
}

// Setsockopt is setsockopt. Options the api does not handle itself go to the
// socket's provider as given, among them SO_UPDATE_ACCEPT_CONTEXT (optval:
// the listening socket, 8 bytes little-endian, after AcceptEx) and
// SO_UPDATE_CONNECT_CONTEXT (no optval, after ConnectEx).
//
// SOL_SOCKET/SO_OPENTYPE (a 4-byte int) is handled by the api for any s,
// including INVALID_SOCKET: in Windows it is per thread; here it is per
// Session (reset by the WSAStartup that restarts a stopped Session). A
// non-zero value (SO_SYNCHRONOUS_ALERT, SO_SYNCHRONOUS_NONALERT) makes Socket
// create sockets without WSA_FLAG_OVERLAPPED; 0 restores the default.
// WSASocket is not affected.
func (s *Session) Setsockopt(h wsa.Socket, level, optname int32, optval []byte) error {
	if isOpenType(level, optname) {
		inst, err := s.started()
		if err != nil {
			return err
		}
		v, err := wsa.GetInt32(optval)
		if err != nil {
			return err
		}
		inst.openType.Store(v)
		return nil
	}
	_, so, p, err := s.sock(h)
	if err != nil {
		return err
	}
	defer so.gate.leave()
	return providerErr(p.procs.WSPSetSockOpt(h, level, optname, optval))
}

// GetsockoptInt is getsockopt for an int, DWORD or BOOL option. A provider
// that writes fewer than 4 bytes (a 1-byte BOOLEAN) gives that value
// zero-extended.
func (s *Session) GetsockoptInt(h wsa.Socket, level, optname int32) (int32, error) {
	var b [wsa.SizeofInt32]byte
	if _, err := s.Getsockopt(h, level, optname, b[:]); err != nil {
		return 0, err
	}
	return int32(binary.LittleEndian.Uint32(b[:])), nil
}

// SetsockoptInt is setsockopt for an int, DWORD or BOOL option (4 bytes).
func (s *Session) SetsockoptInt(h wsa.Socket, level, optname int32, value int32) error {
	var b [wsa.SizeofInt32]byte
	binary.LittleEndian.PutUint32(b[:], uint32(value))
	return s.Setsockopt(h, level, optname, b[:])
}

// GetsockoptLinger is getsockopt for struct linger (SOL_SOCKET, SO_LINGER).
func (s *Session) GetsockoptLinger(h wsa.Socket, level, optname int32) (wsa.Linger, error) {
	var b [wsa.SizeofLinger]byte
	if _, err := s.Getsockopt(h, level, optname, b[:]); err != nil {
		return wsa.Linger{}, err
	}
	return wsa.UnmarshalLinger(b[:])
}

// SetsockoptLinger is setsockopt for struct linger; a nil l is WSAEFAULT.
func (s *Session) SetsockoptLinger(h wsa.Socket, level, optname int32, l *wsa.Linger) error {
	if l == nil {
		return wsa.WSAEFAULT
	}
	var b [wsa.SizeofLinger]byte
	if err := l.Marshal(b[:]); err != nil {
		return err
	}
	return s.Setsockopt(h, level, optname, b[:])
}

// GetsockoptProtocolInfo is getsockopt(SOL_SOCKET, SO_PROTOCOL_INFOW),
// decoded: the catalog entry of the socket as its provider reports it.
func (s *Session) GetsockoptProtocolInfo(h wsa.Socket) (wsa.ProtocolInfo, error) {
	var b [wsa.SizeofProtocolInfo]byte
	if _, err := s.Getsockopt(h, wsa.SOL_SOCKET, wsa.SO_PROTOCOL_INFOW, b[:]); err != nil {
		return wsa.ProtocolInfo{}, err
	}
	return wsa.UnmarshalProtocolInfo(b[:])
}

// IPMreq is struct ip_mreq, the IP_ADD_MEMBERSHIP and IP_DROP_MEMBERSHIP
// argument: the group and the local interface address, in network order.
type IPMreq struct {
	Multiaddr [4]byte
	Interface [4]byte
}

// sizeofIPMreq is sizeof(struct ip_mreq).
const sizeofIPMreq = 8

// SetsockoptIPMreq is setsockopt for struct ip_mreq; a nil mreq is
// WSAEFAULT.
func (s *Session) SetsockoptIPMreq(h wsa.Socket, level, optname int32, mreq *IPMreq) error {
	if mreq == nil {
		return wsa.WSAEFAULT
	}
	var b [sizeofIPMreq]byte
	copy(b[0:4], mreq.Multiaddr[:])
	copy(b[4:8], mreq.Interface[:])
	return s.Setsockopt(h, level, optname, b[:])
}

// Ioctlsocket is ioctlsocket: only FIONBIO (in: non-zero for non-blocking),
// FIONREAD and SIOCATMARK (out) are defined for it; any other cmd is
// WSAEINVAL. It becomes WSPIoctl with a 4-byte little-endian in or out
// buffer. A nil argp is WSAEFAULT.
func (s *Session) Ioctlsocket(h wsa.Socket, cmd uint32, argp *uint32) error {
	inst, so, p, err := s.sock(h)
	if err != nil {
		return err
	}
	defer so.gate.leave()
	if argp == nil {
		return wsa.WSAEFAULT
	}
	var b [wsa.SizeofInt32]byte
	switch cmd {
	case wsa.FIONBIO:
		binary.LittleEndian.PutUint32(b[:], *argp)
		_, err := p.procs.WSPIoctl(h, cmd, b[:], nil, nil, nil, &inst.tid)
		return providerErr(err)
	case wsa.FIONREAD, wsa.SIOCATMARK:
		if _, err := p.procs.WSPIoctl(h, cmd, nil, b[:], nil, nil, &inst.tid); err != nil {
			return providerErr(err)
		}
		*argp = binary.LittleEndian.Uint32(b[:])
		return nil
	default:
		return wsa.WSAEINVAL
	}
}

// WSAIoctl is WSAIoctl. bytesReturned may be nil only for an overlapped call
// (else WSAEFAULT); it is set when the call completes at once, and also on
// failure when the provider reports a size (the needed length with
// WSAEFAULT, for the ioctls that do that). overlapped and croutine are as in
// WSASend: an overlapped call that completes later returns WSA_IO_PENDING.
//
// SIO_GET_EXTENSION_FUNCTION_POINTER goes to the socket's provider like any
// ioctl: in is the GUID (16 bytes, wsa.GUID.Marshal), and the provider
// writes an extension handle (8 bytes, little-endian) into out, which
// provider.ExtensionFunction resolves to the function. The Session methods
// AcceptEx, ConnectEx, … do that lookup themselves.
func (s *Session) WSAIoctl(h wsa.Socket, code uint32, in []byte, out []byte, bytesReturned *uint32, overlapped *wsa.Overlapped, croutine wsa.CompletionRoutine) error {
	inst, so, p, err := s.sock(h)
	if err != nil {
		return err
	}
	defer so.gate.leave()
	if bytesReturned == nil && overlapped == nil {
		return wsa.WSAEFAULT
	}
	ov, cr := ovArgs(so, overlapped, croutine)
	c := inst.beginOp(so, ov, cr)
	n, err := p.procs.WSPIoctl(h, code, in, out, ov, cr, &inst.tid)
	err = inst.endOp(c, providerErr(err))
	if bytesReturned != nil && (err == nil || (err != wsa.WSA_IO_PENDING && n != 0)) {
		*bytesReturned = n
	}
	return err
}
