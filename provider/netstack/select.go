package netstack

import (
	"time"

	"gvisor.dev/gvisor/pkg/waiter"

	"github.com/ws2go/ws2/wsa"
)

// WSPSelect is select over the provider's sockets (spec §5.3). The sets are
// arrays of any length (fd_count is honoured, no FD_SETSIZE cap); each is
// rewritten in place to its ready subset, and the result is the number of
// ready entries in all three, 0 when the time-out passes.
//
//   - readfds: a listener has a connection to accept; data (or a datagram)
//     is queued; the connection was closed, reset or shut down for
//     receiving (recv will not block).
//   - writefds: a send is possible; a non-blocking connect succeeded.
//   - exceptfds: a non-blocking connect failed (getsockopt(SO_ERROR) then
//     gives the reason and clears it). A failed connect is not writable.
//     Out-of-band data never shows (see the package documentation).
//
// timeout nil waits without limit, {0, 0} polls. Three empty (or nil) sets
// and a negative time-out are WSAEINVAL; a handle that is not a socket of
// this provider is WSAENOTSOCK. A socket closed by another goroutine while
// select waits is reported ready in each set that holds it (any call on it
// then fails WSAENOTSOCK).
//
// select waits on the sockets' readiness cores (an observer on each, removed
// on return); nothing polls.
func (ss *session) WSPSelect(readfds, writefds, exceptfds *wsa.FdSet, timeout *wsa.Timeval) (int32, error) {
	if readfds.Count()+writefds.Count()+exceptfds.Count() == 0 {
		return 0, wsa.WSAEINVAL
	}
	d := time.Duration(-1)
	if timeout != nil {
		if timeout.Sec < 0 || timeout.Usec < 0 {
			return 0, wsa.WSAEINVAL
		}
		d = time.Duration(timeout.Sec)*time.Second + time.Duration(timeout.Usec)*time.Microsecond
	}
	sets := [3]*wsa.FdSet{readfds, writefds, exceptfds}
	socks := make(map[wsa.Socket]*socket)
	for _, set := range sets {
		if set == nil {
			continue
		}
		for _, h := range set.Array {
			if _, ok := socks[h]; ok {
				continue
			}
			s, err := ss.lookup(h)
			if err != nil {
				return 0, err
			}
			socks[h] = s
		}
	}
	ready := [3][]bool{}
	for i, set := range sets {
		ready[i] = make([]bool, set.Count())
	}
	eval := func() int32 {
		conds := make(map[*socket]selectState, len(socks))
		var n int32
		for i, set := range sets {
			if set == nil {
				continue
			}
			for j, h := range set.Array {
				s := socks[h]
				st, ok := conds[s]
				if !ok {
					st = s.selectState()
					conds[s] = st
				}
				ready[i][j] = st[i]
				if st[i] {
					n++
				}
			}
		}
		return n
	}
	list := make([]*socket, 0, len(socks))
	for _, s := range socks {
		list = append(list, s)
	}
	n, err := waitReady(list, d, eval)
	if err != nil {
		return 0, err
	}
	for i, set := range sets {
		if set == nil {
			continue
		}
		out := set.Array[:0]
		for j, h := range set.Array {
			if ready[i][j] {
				out = append(out, h)
			}
		}
		set.Array = out
	}
	return n, nil
}

// selectState is a socket's membership in the read, write and except sets.
type selectState [3]bool

// selectState evaluates the socket for select.
func (s *socket) selectState() selectState {
	if s.rd.isClosed() {
		return selectState{true, true, true}
	}
	c := s.conditions()
	if s.rd.isClosed() {
		return selectState{true, true, true}
	}
	return selectState{c.readable, c.writable, c.failed != nil}
}

// waitReady evaluates eval until it reports something ready, d passes (d
// negative: no limit; 0: evaluate once). It
// waits on the sockets' readiness cores: an observer on each wakes it, and
// is removed on return. It returns eval's last count.
func waitReady(socks []*socket, d time.Duration, eval func() int32) (int32, error) {
	if n := eval(); n > 0 || d == 0 {
		return n, nil
	}
	wake := make(chan struct{}, 1)
	notify := func(waiter.EventMask) {
		select {
		case wake <- struct{}{}:
		default:
		}
	}
	removes := make([]func(), 0, len(socks))
	defer func() {
		for _, rm := range removes {
			rm()
		}
	}()
	for _, s := range socks {
		removes = append(removes, s.rd.addObserver(notify))
	}
	var expired <-chan time.Time
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		expired = t.C
	}
	for {
		// The observers are in place: an event from here on wakes us.
		if n := eval(); n > 0 {
			return n, nil
		}
		select {
		case <-wake:
		case <-expired:
			return eval(), nil
		}
	}
}
