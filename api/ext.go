package api

import (
	"encoding/binary"
	"os"

	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/wsa"
)

// The Microsoft extension functions (mswsock.h). In Windows a program gets
// their pointers per socket with WSAIoctl(SIO_GET_EXTENSION_FUNCTION_POINTER)
// and calls them; WSAIoctl does exactly that here too (the out buffer gets an
// extension handle, see provider.ExtensionFunction). The methods below do
// the lookup themselves, on the socket the C function is called with (the
// listening socket for AcceptEx), cache the function on that socket, and
// call it with the overlapped rules of WSASend: ov.Internal is set to
// WSS_OPERATION_IN_PROGRESS before the call; nil is immediate completion
// (still delivered through the event and completion port), WSA_IO_PENDING a
// later one, anything else no completion. The functions without a
// completion-routine parameter deliver through the event or completion port
// only, as in Windows, and their ov is passed as given on any socket.
//
// A provider that does not know the GUID fails the lookup with its own
// error (WSAEINVAL or WSAEOPNOTSUPP); one that hands back something that is
// not the function's type is WSASYSCALLFAILURE.

// extension returns the function of type F the provider of so hands out
// for guid.
func extension[F any](inst *instance, so *socketObj, p *loadedProvider, guid wsa.GUID) (F, error) {
	var zero F
	fn, ok := so.cachedExt(guid)
	if !ok {
		// In and out buffers in one array: one allocation (they escape
		// into the provider).
		var b [wsa.SizeofGUID + 8]byte
		in, out := b[:wsa.SizeofGUID], b[wsa.SizeofGUID:]
		_ = guid.Marshal(in)
		if _, err := p.procs.WSPIoctl(so.handle(), wsa.SIO_GET_EXTENSION_FUNCTION_POINTER, in, out, nil, nil, &inst.tid); err != nil {
			return zero, providerErr(err)
		}
		if fn, ok = provider.ExtensionFunction(uintptr(binary.LittleEndian.Uint64(out))); !ok {
			return zero, wsa.WSASYSCALLFAILURE
		}
		so.cacheExt(guid, fn)
	}
	f, ok := fn.(F)
	if !ok || isNil(f) {
		return zero, wsa.WSASYSCALLFAILURE
	}
	return f, nil
}

// cachedExt returns the extension function looked up on so for guid.
func (so *socketObj) cachedExt(guid wsa.GUID) (any, bool) {
	so.extMu.Lock()
	defer so.extMu.Unlock()
	for _, e := range so.ext[:so.extN] {
		if e.guid == guid {
			return e.fn, true
		}
	}
	fn, ok := so.extMore[guid]
	return fn, ok
}

// cacheExt records fn as so's extension function for guid: in the socket
// object for the first ones (a socket rarely uses more than one or two),
// in a map beyond.
func (so *socketObj) cacheExt(guid wsa.GUID, fn any) {
	so.extMu.Lock()
	defer so.extMu.Unlock()
	for i := range so.ext[:so.extN] {
		if so.ext[i].guid == guid {
			so.ext[i].fn = fn
			return
		}
	}
	if _, ok := so.extMore[guid]; !ok && so.extN < len(so.ext) {
		so.ext[so.extN] = extEntry{guid, fn}
		so.extN++
		return
	}
	if so.extMore == nil {
		so.extMore = make(map[wsa.GUID]any)
	}
	so.extMore[guid] = fn
}

// AcceptEx is AcceptEx (spec §5.10): it accepts a connection on listen into
// accept, an unbound, unconnected socket of the same kind, and fills buf
// with the first data (receiveDataLength bytes; 0: complete on accept) and
// the local and remote address blocks (localAddressLength and
// remoteAddressLength bytes, each at least the sockaddr size + 16). Parse
// them with GetAcceptExSockaddrs, and call Setsockopt(accept, SOL_SOCKET,
// SO_UPDATE_ACCEPT_CONTEXT, <listen as 8 bytes>) afterwards. The completion
// goes to listen's event or completion port. A buf shorter than the three
// lengths is WSAEFAULT; an accept that is not a socket of the Session
// WSAENOTSOCK.
func (s *Session) AcceptEx(listen, accept wsa.Socket, buf []byte, receiveDataLength, localAddressLength, remoteAddressLength uint32, bytesReceived *uint32, ov *wsa.Overlapped) error {
	inst, so, p, err := s.sock(listen)
	if err != nil {
		return err
	}
	defer so.gate.leave()
	aso := inst.table.socket(accept)
	if aso == nil || !aso.gate.enter() {
		return wsa.WSAENOTSOCK
	}
	defer aso.gate.leave()
	if uint64(receiveDataLength)+uint64(localAddressLength)+uint64(remoteAddressLength) > uint64(len(buf)) {
		return wsa.WSAEFAULT
	}
	fn, err := extension[provider.AcceptExFunc](inst, so, p, wsa.WSAID_ACCEPTEX)
	if err != nil {
		return err
	}
	var n uint32
	c := inst.beginOp(so, ov, nil)
	if err := inst.endOp(c, providerErr(fn(listen, accept, buf, receiveDataLength, localAddressLength, remoteAddressLength, &n, ov))); err != nil {
		return err
	}
	if bytesReceived != nil {
		*bytesReceived = n
	}
	return nil
}

// GetAcceptExSockaddrs is GetAcceptExSockaddrs: it returns the local and
// remote addresses AcceptEx wrote into buf, given the three lengths passed
// to AcceptEx. Like the C function it needs no socket. The address blocks
// are read in the layout Wine uses (spec §5.10), which the providers of this
// module write: each block starts with the sockaddr length as a
// little-endian int32, followed by the sockaddr in its Windows layout. A
// buf shorter than the lengths, or a block that does not hold a sockaddr
// of its stated length, is WSAEFAULT; an unknown family WSAEAFNOSUPPORT.
// (A provider with another layout hands out its own function through
// WSAIoctl(SIO_GET_EXTENSION_FUNCTION_POINTER, WSAID_GETACCEPTEXSOCKADDRS).)
func GetAcceptExSockaddrs(buf []byte, receiveDataLength, localAddressLength, remoteAddressLength uint32) (local, remote wsa.Sockaddr, err error) {
	if uint64(receiveDataLength)+uint64(localAddressLength)+uint64(remoteAddressLength) > uint64(len(buf)) {
		return nil, nil, wsa.WSAEFAULT
	}
	block := func(b []byte) (wsa.Sockaddr, error) {
		if len(b) < 4 {
			return nil, wsa.WSAEFAULT
		}
		n := binary.LittleEndian.Uint32(b)
		if uint64(n) > uint64(len(b)-4) {
			return nil, wsa.WSAEFAULT
		}
		return wsa.ParseSockaddr(b[4 : 4+n])
	}
	at := receiveDataLength
	if local, err = block(buf[at : at+localAddressLength]); err != nil {
		return nil, nil, err
	}
	at += localAddressLength
	if remote, err = block(buf[at : at+remoteAddressLength]); err != nil {
		return nil, nil, err
	}
	return local, remote, nil
}

// ConnectEx is ConnectEx (spec §5.10): it connects s, which must be bound
// and connection-oriented (the provider fails an unbound socket with
// WSAEINVAL), to name, and sends sendBuf (may be nil) once connected;
// bytesSent, if not nil, gets the bytes sent when the call completes at
// once. Call Setsockopt(s, SOL_SOCKET, SO_UPDATE_CONNECT_CONTEXT, nil)
// afterwards. A nil name is WSAEFAULT.
func (s *Session) ConnectEx(h wsa.Socket, name wsa.Sockaddr, sendBuf []byte, bytesSent *uint32, ov *wsa.Overlapped) error {
	inst, so, p, err := s.sock(h)
	if err != nil {
		return err
	}
	defer so.gate.leave()
	if err := checkSockaddr(name, false); err != nil {
		return err
	}
	fn, err := extension[provider.ConnectExFunc](inst, so, p, wsa.WSAID_CONNECTEX)
	if err != nil {
		return err
	}
	var n uint32
	c := inst.beginOp(so, ov, nil)
	if err := inst.endOp(c, providerErr(fn(h, name, sendBuf, &n, ov))); err != nil {
		return err
	}
	if bytesSent != nil {
		*bytesSent = n
	}
	return nil
}

// DisconnectEx is DisconnectEx: a graceful disconnect of s; with flags
// TF_REUSE_SOCKET the handle may then be given to AcceptEx or ConnectEx
// again. reserved must be 0 (WSAEINVAL otherwise). ov nil makes it a
// blocking call.
func (s *Session) DisconnectEx(h wsa.Socket, ov *wsa.Overlapped, flags uint32, reserved uint32) error {
	inst, so, p, err := s.sock(h)
	if err != nil {
		return err
	}
	defer so.gate.leave()
	if reserved != 0 {
		return wsa.WSAEINVAL
	}
	fn, err := extension[provider.DisconnectExFunc](inst, so, p, wsa.WSAID_DISCONNECTEX)
	if err != nil {
		return err
	}
	c := inst.beginOp(so, ov, nil)
	return inst.endOp(c, providerErr(fn(h, ov, flags, reserved)))
}

// TransmitFile is TransmitFile: it sends buffers.Head, then bytesToWrite
// bytes of file (0: to its end; from ov's Offset/OffsetHigh, or from the
// file's current offset when ov is nil), then buffers.Tail, in pieces of
// bytesPerSend (0: the provider's choice). file and buffers may be nil.
// flags: TF_DISCONNECT, TF_REUSE_SOCKET, TF_WRITE_BEHIND, TF_USE_*.
func (s *Session) TransmitFile(h wsa.Socket, file *os.File, bytesToWrite, bytesPerSend uint32, ov *wsa.Overlapped, buffers *wsa.TransmitFileBuffers, flags uint32) error {
	inst, so, p, err := s.sock(h)
	if err != nil {
		return err
	}
	defer so.gate.leave()
	fn, err := extension[provider.TransmitFileFunc](inst, so, p, wsa.WSAID_TRANSMITFILE)
	if err != nil {
		return err
	}
	c := inst.beginOp(so, ov, nil)
	return inst.endOp(c, providerErr(fn(h, file, bytesToWrite, bytesPerSend, ov, buffers, flags)))
}

// TransmitPackets is TransmitPackets: it sends the memory and file elements
// in order (TP_ELEMENT_EOP ends a packet), in sends of sendSize (0: the
// provider's choice). flags as for TransmitFile.
func (s *Session) TransmitPackets(h wsa.Socket, elements []wsa.TransmitPacketsElement, sendSize uint32, ov *wsa.Overlapped, flags uint32) error {
	inst, so, p, err := s.sock(h)
	if err != nil {
		return err
	}
	defer so.gate.leave()
	fn, err := extension[provider.TransmitPacketsFunc](inst, so, p, wsa.WSAID_TRANSMITPACKETS)
	if err != nil {
		return err
	}
	c := inst.beginOp(so, ov, nil)
	return inst.endOp(c, providerErr(fn(h, elements, sendSize, ov, flags)))
}

// WSARecvMsg is WSARecvMsg (an extension function only, in Windows too):
// a datagram with its control data (msg.Control, resliced to what was
// written) and msg.Flags out (MSG_TRUNC, MSG_CTRUNC, MSG_BCAST, MSG_MCAST).
// The byte count goes through bytesReceived, which may be nil only for an
// overlapped call; ov and cr follow WSARecv's rules, including the one for
// sockets created without WSA_FLAG_OVERLAPPED and the one for a datagram
// truncated at once (MSG_TRUNC, WSAEMSGSIZE, completion delivered). A nil
// msg is WSAEFAULT.
func (s *Session) WSARecvMsg(h wsa.Socket, msg *wsa.WSAMsg, bytesReceived *uint32, ov *wsa.Overlapped, cr wsa.CompletionRoutine) error {
	inst, so, p, err := s.sock(h)
	if err != nil {
		return err
	}
	defer so.gate.leave()
	if msg == nil || (bytesReceived == nil && ov == nil) {
		return wsa.WSAEFAULT
	}
	fn, err := extension[provider.WSARecvMsgFunc](inst, so, p, wsa.WSAID_WSARECVMSG)
	if err != nil {
		return err
	}
	ov, cr = ovArgs(so, ov, cr)
	var n uint32
	c := inst.beginRecvOp(so, ov, cr)
	err = inst.endOp(c, providerErr(fn(h, msg, &n, ov, cr)))
	return recvDone(n, err, bytesReceived)
}

// WSASendMsg is WSASendMsg (exported by ws2_32 since Vista, and an extension
// function; either way it goes to the provider's WSAID_WSASENDMSG
// function): a datagram to msg.Name with control data (IP_PKTINFO,
// IPV6_PKTINFO) in msg.Control. bytesSent, ov and cr as in WSASend. A nil
// msg is WSAEFAULT.
func (s *Session) WSASendMsg(h wsa.Socket, msg *wsa.WSAMsg, flags uint32, bytesSent *uint32, ov *wsa.Overlapped, cr wsa.CompletionRoutine) error {
	inst, so, p, err := s.sock(h)
	if err != nil {
		return err
	}
	defer so.gate.leave()
	if msg == nil || (bytesSent == nil && ov == nil) {
		return wsa.WSAEFAULT
	}
	if err := checkSockaddr(msg.Name, true); err != nil {
		return err
	}
	fn, err := extension[provider.WSASendMsgFunc](inst, so, p, wsa.WSAID_WSASENDMSG)
	if err != nil {
		return err
	}
	ov, cr = ovArgs(so, ov, cr)
	var n uint32
	c := inst.beginOp(so, ov, cr)
	if err := inst.endOp(c, providerErr(fn(h, msg, flags, &n, ov, cr))); err != nil {
		return err
	}
	if bytesSent != nil {
		*bytesSent = n
	}
	return nil
}
