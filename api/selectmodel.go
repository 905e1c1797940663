package api

import (
	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/wsa"
)

// Select is select (spec §5.3). nfds is ignored. The sets are arrays with no
// fixed size; each is rewritten in place to its ready subset, and the
// result is the total of ready entries, 0 when the timeout passed (timeout
// nil: no limit; {0, 0}: poll). Three nil or empty sets are WSAEINVAL; an
// entry that is not a live socket of the Session is WSAENOTSOCK.
//
// The call goes to the provider of the first socket found, in the order
// readfds, writefds, exceptfds (as ws2_32 does), which answers for all the
// sockets: its WSPSelect does the waiting and the readiness rules. Closing
// that socket, or WSACleanup, reaches the provider, which ends the wait.
func (s *Session) Select(nfds int32, readfds, writefds, exceptfds *wsa.FdSet, timeout *wsa.Timeval) (int32, error) {
	inst, err := s.started()
	if err != nil {
		return 0, err
	}
	var first wsa.Socket
	found := false
	for _, set := range [...]*wsa.FdSet{readfds, writefds, exceptfds} {
		if set == nil {
			continue
		}
		for _, h := range set.Array {
			if inst.table.socket(h) == nil {
				return 0, wsa.WSAENOTSOCK
			}
			if !found {
				first, found = h, true
			}
		}
	}
	if !found {
		return 0, wsa.WSAEINVAL
	}
	_, so, p, err := s.sock(first)
	if err != nil {
		return 0, err
	}
	defer so.gate.leave()
	n, err := p.procs.WSPSelect(readfds, writefds, exceptfds, timeout)
	if err != nil {
		return 0, providerErr(err)
	}
	return n, nil
}

// pollAllowed are the event bits WSAPoll accepts (spec §5.4).
const pollAllowed = wsa.POLLRDNORM | wsa.POLLRDBAND | wsa.POLLWRNORM

// WSAPoll is WSAPoll (spec §5.4): it sets REvents of each entry and returns
// how many entries have REvents set, 0 when timeout (milliseconds; negative:
// no limit; 0: poll) passed.
//
// The api does the argument rules: entries with a negative Fd (its top bit
// set, as INVALID_SOCKET) are ignored and their REvents cleared; an Events
// bit other than POLLRDNORM, POLLRDBAND and POLLWRNORM (POLLIN and POLLOUT
// are made of those) in any other entry is WSAEINVAL; an Fd that is not a
// live socket of the Session gets POLLNVAL; when no entry holds a valid
// socket the call fails with WSAEINVAL. The provider of the first valid
// socket does the readiness part for all the valid entries, through
// provider.Poller (Windows routes WSAPoll to providers as an extension
// ioctl); a provider without it fails the call with WSAEOPNOTSUPP. With
// POLLNVAL entries the provider is only polled (timeout 0), since the call
// has a result already.
func (s *Session) WSAPoll(fds []wsa.PollFd, timeout int32) (int32, error) {
	inst, err := s.started()
	if err != nil {
		return 0, err
	}
	for i := range fds {
		fds[i].REvents = 0
		if int64(fds[i].Fd) >= 0 && fds[i].Events&^pollAllowed != 0 {
			return 0, wsa.WSAEINVAL
		}
	}
	var idx []int
	nval := false
	for i := range fds {
		if int64(fds[i].Fd) < 0 {
			continue
		}
		if inst.table.socket(fds[i].Fd) == nil {
			fds[i].REvents = wsa.POLLNVAL
			nval = true
			continue
		}
		idx = append(idx, i)
	}
	if len(idx) == 0 {
		return 0, wsa.WSAEINVAL
	}
	_, so, p, err := s.sock(fds[idx[0]].Fd)
	if err != nil {
		return 0, err
	}
	defer so.gate.leave()
	poller, ok := p.procs.(provider.Poller)
	if !ok {
		return 0, wsa.WSAEOPNOTSUPP
	}
	sub := make([]wsa.PollFd, len(idx))
	for k, i := range idx {
		sub[k] = wsa.PollFd{Fd: fds[i].Fd, Events: fds[i].Events}
	}
	if nval {
		timeout = 0
	}
	if _, err := poller.WSPPoll(sub, timeout); err != nil {
		return 0, providerErr(err)
	}
	for k, i := range idx {
		fds[i].REvents = sub[k].REvents
	}
	var n int32
	for i := range fds {
		if fds[i].REvents != 0 {
			n++
		}
	}
	return n, nil
}

// WSAEventSelect is WSAEventSelect (spec §5.1, §5.2): the provider records
// the FD_* events of networkEvents for socket h and signals event when one
// is recorded; registration forces the socket non-blocking and replaces any
// earlier WSAEventSelect or WSAAsyncSelect on it. networkEvents 0 cancels
// (event is then ignored). With networkEvents not 0, an event that is not an
// event object of the Session is WSAEINVAL (MSL: "one of the specified
// parameters was invalid").
func (s *Session) WSAEventSelect(h wsa.Socket, event wsa.Handle, networkEvents int32) error {
	inst, so, p, err := s.sock(h)
	if err != nil {
		return err
	}
	defer so.gate.leave()
	if networkEvents != 0 && inst.event(event) == nil {
		return wsa.WSAEINVAL
	}
	return providerErr(p.procs.WSPEventSelect(h, event, networkEvents))
}

// WSAEnumNetworkEvents is WSAEnumNetworkEvents: it returns the FD_* events
// recorded for socket h since the last call, with their error codes
// (ErrorCode[FD_*_BIT]), clears the record, and resets event (if not 0)
// atomically with that: the provider resets it through WPUResetEvent under
// its own lock. The record is returned rather than written through a
// pointer. event, if not 0, must be an event object of the Session
// (WSAEINVAL otherwise).
func (s *Session) WSAEnumNetworkEvents(h wsa.Socket, event wsa.Handle) (wsa.NetworkEvents, error) {
	inst, so, p, err := s.sock(h)
	if err != nil {
		return wsa.NetworkEvents{}, err
	}
	defer so.gate.leave()
	if event != wsa.WSA_INVALID_EVENT && inst.event(event) == nil {
		return wsa.NetworkEvents{}, wsa.WSAEINVAL
	}
	ne, err := p.procs.WSPEnumNetworkEvents(h, event)
	if err != nil {
		return wsa.NetworkEvents{}, providerErr(err)
	}
	return ne, nil
}

// WSAAsyncSelect is WSAAsyncSelect: the provider posts msg to the message
// queue hwnd (see CreateMessageQueue) when one of the FD_* events is
// recorded, with WParam the socket and LParam WSAMAKESELECTREPLY(event,
// error); the recording rules are WSAEventSelect's, and so are the
// non-blocking mode and the replacement of an earlier registration. event 0
// cancels (hwnd and msg are then not checked). With event not 0, an hwnd
// that is not a message queue of the Session is WSAEINVAL, as MSL says for a
// window handle that does not refer to an existing window.
func (s *Session) WSAAsyncSelect(h wsa.Socket, hwnd wsa.Handle, msg uint32, event int32) error {
	inst, so, p, err := s.sock(h)
	if err != nil {
		return err
	}
	defer so.gate.leave()
	if event != 0 && inst.table.object(hwnd, kindMsgQueue) == nil {
		return wsa.WSAEINVAL
	}
	return providerErr(p.procs.WSPAsyncSelect(h, hwnd, msg, event))
}
