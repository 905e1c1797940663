package host

import (
	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/provider/internal/wsp"
	"github.com/ws2go/ws2/wsa"
)

// The Microsoft extension functions (spec §2.7, §5.10), handed out by
// WSPIoctl(SIO_GET_EXTENSION_FUNCTION_POINTER): registered once per
// procedure table (wsp.Extensions), resolving their socket handles through
// that table. They are operations of the sockets' queues (wsp.Queues), as
// the overlapped WSARecv and WSASend are; without an OVERLAPPED they block.

// extensions returns ss's extension handles.
func (ss *session) extensions() map[wsa.GUID]uintptr {
	return wsp.Extensions(ss, wsp.ExtensionFuncs[*session])
}

// extSocket resolves a handle given to an extension function, with its
// upcall table.
func (ss *session) extSocket(h wsa.Socket) (*socket, provider.UpcallTable, error) {
	s, err := ss.lookup(h)
	if err != nil {
		return nil, nil, err
	}
	up, err := ss.upcalls()
	if err != nil {
		return nil, nil, err
	}
	return s, up, nil
}
