package api

import "github.com/ws2go/ws2/wsa"

// Send is send: the bytes sent.
func (s *Session) Send(h wsa.Socket, buf []byte, flags int32) (int32, error) {
	inst, so, p, err := s.sock(h)
	if err != nil {
		return 0, err
	}
	defer so.gate.leave()
	n, err := p.procs.WSPSend(h, [][]byte{buf}, uint32(flags), nil, nil, &inst.tid)
	if err != nil {
		return 0, providerErr(err)
	}
	return int32(n), nil
}

// Recv is recv: the bytes received; 0 with a nil error is a graceful close
// (stream) or an empty datagram.
func (s *Session) Recv(h wsa.Socket, buf []byte, flags int32) (int32, error) {
	inst, so, p, err := s.sock(h)
	if err != nil {
		return 0, err
	}
	defer so.gate.leave()
	f := uint32(flags)
	n, err := p.procs.WSPRecv(h, [][]byte{buf}, &f, nil, nil, &inst.tid)
	if err != nil {
		return 0, providerErr(err)
	}
	return int32(n), nil
}

// Sendto is sendto. to may be nil on a connected socket (C: a NULL to).
func (s *Session) Sendto(h wsa.Socket, buf []byte, flags int32, to wsa.Sockaddr) (int32, error) {
	inst, so, p, err := s.sock(h)
	if err != nil {
		return 0, err
	}
	defer so.gate.leave()
	if err := checkSockaddr(to, true); err != nil {
		return 0, err
	}
	n, err := p.procs.WSPSendTo(h, [][]byte{buf}, uint32(flags), to, nil, nil, &inst.tid)
	if err != nil {
		return 0, providerErr(err)
	}
	return int32(n), nil
}

// Recvfrom is recvfrom: the bytes received and the source address (nil if
// the provider reports none, as for a connected stream socket).
func (s *Session) Recvfrom(h wsa.Socket, buf []byte, flags int32) (int32, wsa.Sockaddr, error) {
	inst, so, p, err := s.sock(h)
	if err != nil {
		return 0, nil, err
	}
	defer so.gate.leave()
	f := uint32(flags)
	var from wsa.Sockaddr
	n, err := p.procs.WSPRecvFrom(h, [][]byte{buf}, &f, &from, nil, nil, &inst.tid)
	if err != nil {
		return 0, nil, providerErr(err)
	}
	return int32(n), from, nil
}

// WSASend is WSASend. The count goes through sent, which may be nil only
// for an overlapped call (else WSAEFAULT); it is set when the call completes
// at once.
//
// With overlapped not nil the call is overlapped (see "Overlapped I/O" in
// the package doc): nil means it completed at once and its completion is
// still delivered, WSA_IO_PENDING that it completes later, through
// overlapped.HEvent and the socket's completion port, or through croutine,
// which then runs in an alertable wait on the Session; any other error
// means it did not start and nothing will be delivered. On a socket created
// without WSA_FLAG_OVERLAPPED, overlapped and croutine are ignored, as MSL
// says: the call is an ordinary one.
func (s *Session) WSASend(h wsa.Socket, bufs [][]byte, sent *uint32, flags uint32, overlapped *wsa.Overlapped, croutine wsa.CompletionRoutine) error {
	inst, so, p, err := s.sock(h)
	if err != nil {
		return err
	}
	defer so.gate.leave()
	if sent == nil && overlapped == nil {
		return wsa.WSAEFAULT
	}
	ov, cr := ovArgs(so, overlapped, croutine)
	c := inst.beginOp(so, ov, cr)
	n, err := p.procs.WSPSend(h, bufs, flags, ov, cr, &inst.tid)
	if err := inst.endOp(c, providerErr(err)); err != nil {
		return err
	}
	if sent != nil {
		*sent = n
	}
	return nil
}

// WSARecv is WSARecv. flags is in/out (MSG_PEEK, MSG_OOB, MSG_WAITALL,
// MSG_PUSH_IMMEDIATE in; MSG_PARTIAL out) and must not be nil (WSAEFAULT);
// recvd and the overlapped arguments as in WSASend. For an overlapped
// receive that completes later, the flags come back through
// WSAGetOverlappedResult (or the completion routine), not through flags.
//
// A datagram larger than the buffers fills them and fails with WSAEMSGSIZE
// (the rest is discarded); *recvd then holds the bytes received (the
// buffers' size). An overlapped receive that ends that way at once has
// completed, as in Windows: its completion is delivered like any other
// (event, completion routine with WSAEMSGSIZE, completion packet with
// ERROR_MORE_DATA even under FILE_SKIP_COMPLETION_PORT_ON_SUCCESS), and
// WSAGetOverlappedResult reports WSAEMSGSIZE with the byte count.
func (s *Session) WSARecv(h wsa.Socket, bufs [][]byte, recvd *uint32, flags *uint32, overlapped *wsa.Overlapped, croutine wsa.CompletionRoutine) error {
	inst, so, p, err := s.sock(h)
	if err != nil {
		return err
	}
	defer so.gate.leave()
	if flags == nil || (recvd == nil && overlapped == nil) {
		return wsa.WSAEFAULT
	}
	ov, cr := ovArgs(so, overlapped, croutine)
	c := inst.beginRecvOp(so, ov, cr)
	n, err := p.procs.WSPRecv(h, bufs, flags, ov, cr, &inst.tid)
	return recvDone(n, inst.endOp(c, providerErr(err)), recvd)
}

// recvDone ends a receive call: the byte count goes to recvd (if not nil)
// on success and with WSAEMSGSIZE, a datagram truncated to the buffers.
func recvDone(n uint32, err error, recvd *uint32) error {
	if recvd != nil && (err == nil || err == wsa.WSAEMSGSIZE) {
		*recvd = n
	}
	return err
}

// WSASendTo is WSASendTo; to may be nil on a connected socket. The other
// arguments are as in WSASend.
func (s *Session) WSASendTo(h wsa.Socket, bufs [][]byte, sent *uint32, flags uint32, to wsa.Sockaddr, overlapped *wsa.Overlapped, croutine wsa.CompletionRoutine) error {
	inst, so, p, err := s.sock(h)
	if err != nil {
		return err
	}
	defer so.gate.leave()
	if sent == nil && overlapped == nil {
		return wsa.WSAEFAULT
	}
	if err := checkSockaddr(to, true); err != nil {
		return err
	}
	ov, cr := ovArgs(so, overlapped, croutine)
	c := inst.beginOp(so, ov, cr)
	n, err := p.procs.WSPSendTo(h, bufs, flags, to, ov, cr, &inst.tid)
	if err := inst.endOp(c, providerErr(err)); err != nil {
		return err
	}
	if sent != nil {
		*sent = n
	}
	return nil
}

// WSARecvFrom is WSARecvFrom. from, if not nil, receives the source address;
// for an overlapped call it is written when the operation completes, so it
// must stay valid until then (the C lpFrom/lpFromlen rule). The other
// arguments, and the WSAEMSGSIZE rule, are as in WSARecv.
func (s *Session) WSARecvFrom(h wsa.Socket, bufs [][]byte, recvd *uint32, flags *uint32, from *wsa.Sockaddr, overlapped *wsa.Overlapped, croutine wsa.CompletionRoutine) error {
	inst, so, p, err := s.sock(h)
	if err != nil {
		return err
	}
	defer so.gate.leave()
	if flags == nil || (recvd == nil && overlapped == nil) {
		return wsa.WSAEFAULT
	}
	ov, cr := ovArgs(so, overlapped, croutine)
	c := inst.beginRecvOp(so, ov, cr)
	n, err := p.procs.WSPRecvFrom(h, bufs, flags, from, ov, cr, &inst.tid)
	return recvDone(n, inst.endOp(c, providerErr(err)), recvd)
}

// WSASendDisconnect is WSASendDisconnect: shutdown(SD_SEND) plus disconnect
// data (nil for TCP/IP, which does not support it).
func (s *Session) WSASendDisconnect(h wsa.Socket, data []byte) error {
	_, so, p, err := s.sock(h)
	if err != nil {
		return err
	}
	defer so.gate.leave()
	return providerErr(p.procs.WSPSendDisconnect(h, data))
}

// WSARecvDisconnect is WSARecvDisconnect: shutdown(SD_RECEIVE) plus the
// peer's disconnect data, written into data (nil for TCP/IP).
func (s *Session) WSARecvDisconnect(h wsa.Socket, data []byte) error {
	_, so, p, err := s.sock(h)
	if err != nil {
		return err
	}
	defer so.gate.leave()
	return providerErr(p.procs.WSPRecvDisconnect(h, data))
}

// ovArgs applies the rule for a socket created without WSA_FLAG_OVERLAPPED:
// the overlapped arguments are ignored (MSL WSASend, WSARecv, WSAIoctl: "This
// parameter is ignored for nonoverlapped sockets").
func ovArgs(so *socketObj, ov *wsa.Overlapped, cr wsa.CompletionRoutine) (*wsa.Overlapped, wsa.CompletionRoutine) {
	if so.nonOverlapped.Load() {
		return nil, nil
	}
	return ov, cr
}
