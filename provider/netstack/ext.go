package netstack

import (
	"os"

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
	return wsp.Extensions(ss, func(get func() (*session, error)) map[wsa.GUID]any {
		return map[wsa.GUID]any{
			wsa.WSAID_ACCEPTEX: provider.AcceptExFunc(func(listen, accept wsa.Socket, buf []byte, rxLen, localLen, remoteLen uint32, received *uint32, ov *wsa.Overlapped) error {
				ss, err := get()
				if err != nil {
					return err
				}
				return ss.acceptEx(listen, accept, buf, rxLen, localLen, remoteLen, received, ov)
			}),
			wsa.WSAID_GETACCEPTEXSOCKADDRS: provider.GetAcceptExSockaddrsFunc(wsp.GetAcceptExSockaddrs),
			wsa.WSAID_CONNECTEX: provider.ConnectExFunc(func(s wsa.Socket, name wsa.Sockaddr, sendBuf []byte, sent *uint32, ov *wsa.Overlapped) error {
				ss, err := get()
				if err != nil {
					return err
				}
				return ss.connectEx(s, name, sendBuf, sent, ov)
			}),
			wsa.WSAID_DISCONNECTEX: provider.DisconnectExFunc(func(s wsa.Socket, ov *wsa.Overlapped, flags, reserved uint32) error {
				ss, err := get()
				if err != nil {
					return err
				}
				return ss.disconnectEx(s, ov, flags, reserved)
			}),
			wsa.WSAID_TRANSMITFILE: provider.TransmitFileFunc(func(s wsa.Socket, file *os.File, n, perSend uint32, ov *wsa.Overlapped, bufs *wsa.TransmitFileBuffers, flags uint32) error {
				ss, err := get()
				if err != nil {
					return err
				}
				return ss.transmitFile(s, file, n, perSend, ov, bufs, flags)
			}),
			wsa.WSAID_TRANSMITPACKETS: provider.TransmitPacketsFunc(func(s wsa.Socket, elements []wsa.TransmitPacketsElement, sendSize uint32, ov *wsa.Overlapped, flags uint32) error {
				ss, err := get()
				if err != nil {
					return err
				}
				return ss.transmitPackets(s, elements, sendSize, ov, flags)
			}),
			wsa.WSAID_WSARECVMSG: provider.WSARecvMsgFunc(func(s wsa.Socket, msg *wsa.WSAMsg, received *uint32, ov *wsa.Overlapped, cr wsa.CompletionRoutine) error {
				ss, err := get()
				if err != nil {
					return err
				}
				return ss.wsaRecvMsg(s, msg, received, ov, cr)
			}),
			wsa.WSAID_WSASENDMSG: provider.WSASendMsgFunc(func(s wsa.Socket, msg *wsa.WSAMsg, flags uint32, sent *uint32, ov *wsa.Overlapped, cr wsa.CompletionRoutine) error {
				ss, err := get()
				if err != nil {
					return err
				}
				return ss.wsaSendMsg(s, msg, flags, sent, ov, cr)
			}),
		}
	})
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

// extCall runs an extension-function operation op on queue q of socket qs
// and turns submit's answer into the function's: nil (completed at once,
// or a blocking call that completed), WSA_IO_PENDING, or the error.
func extCall(qs *socket, q *wsp.OpQueue, op *wsp.Op) (uint32, error) {
	n, _, err := qs.ovq.Submit(q, op)
	return n, err
}
