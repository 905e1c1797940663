package wsp

import (
	"errors"

	"github.com/ws2go/ws2/wsa"
)

// Conditions is what select, WSAPoll and the FD_* events need to know
// about a socket, as a provider derives it from its transport's readiness
// and the socket's state. The methods turn it into each I/O model's terms,
// so that every provider answers them alike.
type Conditions struct {
	Readable  bool  // recv (or accept on a listener) would not block
	Writable  bool  // send would not block; a connect completed
	Connected bool  // a stream connection is (or was) established
	Failed    error // a connect attempt failed with this error
	Closed    bool  // the peer closed or reset the connection, or ours is shut
	Accept    bool  // a listener has a connection to accept
	Data      bool  // data is queued to be read (not just the peer's FIN)
	OOB       bool  // urgent data is waiting and SO_OOBINLINE is off
	CloseErr  error // why a closed stream closed: nil for a FIN
}

// FDEvents is what the conditions mean in FD_* terms (spec §5.1): the
// events whose condition holds and the error code of each. A closed
// connection records FD_CLOSE once the data is drained, never FD_READ; a
// connected stream socket holds FD_CONNECT; urgent data with SO_OOBINLINE
// off is FD_OOB.
func (c Conditions) FDEvents(stream bool) (bits int32, code [wsa.FD_MAX_EVENTS]int32) {
	if !stream {
		if c.Readable {
			bits |= wsa.FD_READ
		}
		if c.Writable {
			bits |= wsa.FD_WRITE
		}
		return bits, code
	}
	if c.Accept {
		bits |= wsa.FD_ACCEPT
	}
	if c.Failed != nil {
		bits |= wsa.FD_CONNECT
		code[wsa.FD_CONNECT_BIT] = ErrCode(c.Failed)
	}
	if !c.Connected {
		return bits, code
	}
	bits |= wsa.FD_CONNECT
	if c.Data {
		bits |= wsa.FD_READ
	}
	if c.OOB {
		bits |= wsa.FD_OOB
	}
	if c.Writable && c.CloseErr == nil {
		bits |= wsa.FD_WRITE
	}
	if c.Closed && !c.Data { // only once the data is drained
		bits |= wsa.FD_CLOSE
		code[wsa.FD_CLOSE_BIT] = CloseCode(c.CloseErr)
	}
	return bits, code
}

// SelectState is the socket's membership in select's read, write and
// except sets (spec §5.3): a failed connect is in the except set only, as is
// urgent data with SO_OOBINLINE off.
func (c Conditions) SelectState() [3]bool {
	return [3]bool{c.Readable, c.Writable, c.Failed != nil || c.OOB}
}

// PollEvents is WSAPoll's revents for the requested events (spec §5.4): a
// failed connect is POLLHUP|POLLERR (with POLLWRNORM if asked for), as
// Windows 10 2004 and later report it; a closed stream POLLHUP, with
// POLLERR for a reset; urgent data POLLRDBAND.
func (c Conditions) PollEvents(stream bool, events int16) int16 {
	if c.Failed != nil {
		return wsa.POLLHUP | wsa.POLLERR | events&wsa.POLLWRNORM
	}
	var r int16
	if c.Readable {
		r |= events & wsa.POLLRDNORM
	}
	if c.OOB {
		r |= events & wsa.POLLRDBAND
	}
	if c.Writable {
		r |= events & wsa.POLLWRNORM
	}
	if stream && c.Closed {
		r |= wsa.POLLHUP
		if c.CloseErr != nil {
			r |= wsa.POLLERR
		}
	}
	return r
}

// CloseCode is FD_CLOSE's iErrorCode: 0 for a graceful close,
// WSAECONNRESET for a reset, WSAECONNABORTED for a local abort or a
// time-out.
func CloseCode(err error) int32 {
	switch err {
	case nil:
		return 0
	case wsa.WSAECONNRESET:
		return int32(wsa.WSAECONNRESET)
	}
	return int32(wsa.WSAECONNABORTED)
}

// ErrCode is the iErrorCode of a failed connect.
func ErrCode(err error) int32 {
	if e, ok := err.(wsa.Errno); ok {
		return int32(e)
	}
	return int32(wsa.WSAECONNREFUSED)
}

// ErrnoOf is the Winsock code of an operation's error (0 for nil,
// WSASYSCALLFAILURE for an error that is not a wsa.Errno).
func ErrnoOf(err error) wsa.Errno {
	if err == nil {
		return 0
	}
	var e wsa.Errno
	if errors.As(err, &e) {
		return e
	}
	return wsa.WSASYSCALLFAILURE
}
