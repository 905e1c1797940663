package wsp

import (
	"time"

	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/wsa"
)

// MsgCall runs a WSARecvMsg or WSASendMsg step try on a socket: with an
// OVERLAPPED on an overlapped socket as an operation on its queue q of
// qs (cr, if set, is run on the calling thread, which is opened for it),
// else through rd.Block with nonblocking() and timeout() read then. It
// returns the byte count of a call that completed at once (or blocked to
// completion) and the error (WSA_IO_PENDING for a pending operation).
func MsgCall(up provider.UpcallTable, qs *Queues, q *OpQueue, ov *wsa.Overlapped, cr wsa.CompletionRoutine, overlapped bool, rd *Readiness, nonblocking func() bool, timeout func() time.Duration, try func() (uint32, uint32, error)) (uint32, error) {
	var n uint32
	var err error
	if ov != nil && overlapped {
		op := qs.NewOp(up, ov, cr, nil)
		if cr != nil {
			tid, terr := up.WPUOpenCurrentThread()
			if terr != nil {
				return 0, terr
			}
			op.Tid = tid
		}
		op.Try = try
		n, _, err = qs.Submit(q, op)
	} else {
		err = rd.Block(nonblocking(), timeout(), func() error {
			var err error
			n, _, err = try()
			return err
		})
	}
	return n, err
}
