package netstack

import (
	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/provider/internal/wsp"
	"github.com/ws2go/ws2/wsa"
)

// The Microsoft extension functions (spec §2.7, §5.10), handed out by
// WSPIoctl(SIO_GET_EXTENSION_FUNCTION_POINTER) with the function's GUID as
// input: the output gets the function's extension handle
// (provider.NewExtensionHandle), 8 bytes little-endian.
//
// The functions are registered once per procedure table (one per api
// Session, see Provider.Startup), the first time one is asked for: a
// function receives only socket handles, which it must resolve through that
// table's upcalls, so one table's functions cannot serve another's. The
// registered closures hold the table weakly, so a finished Session is not
// kept alive by the (never freed) handle table; calling a function of a
// finished one fails WSANOTINITIALISED.

// extensions returns ss's extension handles, registering its functions the
// first time (wsp.Extensions).
func (ss *session) extensions() map[wsa.GUID]uintptr {
	return wsp.Extensions(ss, wsp.ExtensionFuncs[*session])
}

// extSocket resolves a handle given to an extension function, with its
// upcall table.
func (ss *session) extSocket(h wsa.Socket) (*socket, provider.UpcallTable, error) {
	return ss.lookupUp(h)
}

// extCall runs an extension-function operation op on queue q of socket qs
// and turns submit's answer into the function's: nil (completed at once,
// or a blocking call that completed), WSA_IO_PENDING, or the error.
func extCall(qs *socket, q *wsp.OpQueue, op *wsp.Op) (uint32, error) {
	n, _, err := qs.ovq.Submit(q, op)
	return n, err
}
