package wsp

import "github.com/ws2go/ws2/wsa"

// Accept is the shared part of WSPAccept on a stream socket whose state
// the provider read under its lock: a socket not listening fails
// WSAEINVAL; otherwise try (accept's non-blocking step, WSAEWOULDBLOCK
// when nothing is queued) runs through rd.Block, so a non-blocking socket
// fails WSAEWOULDBLOCK and a blocking one waits. FD_ACCEPT is re-enabled
// afterwards unless the condition function deferred (WSATRY_AGAIN).
func Accept(rd *Readiness, listening, nonblocking bool, try func() (wsa.Socket, wsa.Sockaddr, error)) (wsa.Socket, wsa.Sockaddr, error) {
	if !listening {
		return wsa.INVALID_SOCKET, nil, wsa.WSAEINVAL
	}
	var (
		ns   wsa.Socket
		peer wsa.Sockaddr
	)
	err := rd.Block(nonblocking, 0, func() error {
		var err error
		ns, peer, err = try()
		return err
	})
	if err != wsa.WSATRY_AGAIN {
		rd.Events.Reenable(wsa.FD_ACCEPT) // not when the condition deferred
	}
	if err != nil {
		return wsa.INVALID_SOCKET, nil, err
	}
	return ns, peer, nil
}

// AcceptCondition offers a dequeued connection from peer to WSAAccept's
// condition function cond (nil accepts it); local gives the connection's
// local address. CF_ACCEPT returns nil; CF_REJECT calls reject (which
// resets the connection) and fails WSAECONNREFUSED; CF_DEFER calls requeue
// and fails WSATRY_AGAIN; any other value calls requeue and fails
// WSAEINVAL.
func AcceptCondition(cond wsa.ConditionProc, callbackData uintptr, peer wsa.Sockaddr, local func() wsa.Sockaddr, reject, requeue func()) error {
	if cond == nil {
		return nil
	}
	var g uint32
	switch cond(peer, nil, nil, nil, local(), nil, &g, callbackData) {
	case wsa.CF_ACCEPT:
		return nil
	case wsa.CF_REJECT:
		reject()
		return wsa.WSAECONNREFUSED
	case wsa.CF_DEFER:
		requeue()
		return wsa.WSATRY_AGAIN
	default:
		requeue()
		return wsa.WSAEINVAL
	}
}
