package wsp

import (
	"encoding/binary"
	"os"
	"runtime"
	"sync"
	"weak"

	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/wsa"
)

// Extension functions are handed out per procedure table (one per api
// Session): a function receives only socket handles, which it must resolve
// through that table's upcalls, so one table's functions cannot serve
// another's. The registered closures hold the table weakly, so a finished
// Session is not kept alive by the (never freed) handle table; calling a
// function of a finished one fails WSANOTINITIALISED.

var (
	extMu     sync.Mutex
	extTables = make(map[any]map[wsa.GUID]uintptr)
)

// Extensions returns the extension handles of table t, registering its
// functions the first time: make builds them around get, which returns the
// table (or WSANOTINITIALISED once it is gone).
func Extensions[T any](t *T, make func(get func() (*T, error)) map[wsa.GUID]any) map[wsa.GUID]uintptr {
	wp := weak.Make(t)
	extMu.Lock()
	defer extMu.Unlock()
	if h := extTables[wp]; h != nil {
		return h
	}
	get := func() (*T, error) {
		v := wp.Value()
		if v == nil {
			return nil, wsa.WSANOTINITIALISED
		}
		return v, nil
	}
	handles := map[wsa.GUID]uintptr{}
	for g, fn := range make(get) {
		handles[g] = provider.NewExtensionHandle(fn)
	}
	extTables[wp] = handles
	runtime.AddCleanup(t, func(wp weak.Pointer[T]) {
		extMu.Lock()
		delete(extTables, wp)
		extMu.Unlock()
	}, wp)
	return handles
}

// ExtensionPointer is SIO_GET_EXTENSION_FUNCTION_POINTER over handles: in
// holds the GUID (shorter than 16 bytes is WSAEFAULT), out receives the
// 8-byte handle (shorter is WSAEFAULT). An unknown GUID is WSAEINVAL.
func ExtensionPointer(handles map[wsa.GUID]uintptr, in, out []byte) (int32, error) {
	g, err := wsa.UnmarshalGUID(in)
	if err != nil {
		return 0, wsa.WSAEFAULT
	}
	h, ok := handles[g]
	if !ok {
		return 0, wsa.WSAEINVAL
	}
	if len(out) < 8 {
		return 0, wsa.WSAEFAULT
	}
	binary.LittleEndian.PutUint64(out, uint64(h))
	return 8, nil
}

// ExtSession is what a provider's procedure table implements for the
// Microsoft extension functions (spec §2.7, §5.10): each method is the
// function of the same name, its sockets resolved through the table.
type ExtSession interface {
	AcceptEx(listen, accept wsa.Socket, buf []byte, rxLen, localLen, remoteLen uint32, received *uint32, ov *wsa.Overlapped) error
	ConnectEx(s wsa.Socket, name wsa.Sockaddr, sendBuf []byte, sent *uint32, ov *wsa.Overlapped) error
	DisconnectEx(s wsa.Socket, ov *wsa.Overlapped, flags, reserved uint32) error
	TransmitFile(s wsa.Socket, file *os.File, n, perSend uint32, ov *wsa.Overlapped, bufs *wsa.TransmitFileBuffers, flags uint32) error
	TransmitPackets(s wsa.Socket, elements []wsa.TransmitPacketsElement, sendSize uint32, ov *wsa.Overlapped, flags uint32) error
	WSARecvMsg(s wsa.Socket, msg *wsa.WSAMsg, received *uint32, ov *wsa.Overlapped, cr wsa.CompletionRoutine) error
	WSASendMsg(s wsa.Socket, msg *wsa.WSAMsg, flags uint32, sent *uint32, ov *wsa.Overlapped, cr wsa.CompletionRoutine) error
}

// ExtensionFuncs builds the extension functions of a table, for
// Extensions: each calls get for the table (failing with its error, e.g.
// WSANOTINITIALISED once the table is gone) and then the table's method.
func ExtensionFuncs[T ExtSession](get func() (T, error)) map[wsa.GUID]any {
	return map[wsa.GUID]any{
		wsa.WSAID_ACCEPTEX: provider.AcceptExFunc(func(listen, accept wsa.Socket, buf []byte, rxLen, localLen, remoteLen uint32, received *uint32, ov *wsa.Overlapped) error {
			ss, err := get()
			if err != nil {
				return err
			}
			return ss.AcceptEx(listen, accept, buf, rxLen, localLen, remoteLen, received, ov)
		}),
		wsa.WSAID_GETACCEPTEXSOCKADDRS: provider.GetAcceptExSockaddrsFunc(GetAcceptExSockaddrs),
		wsa.WSAID_CONNECTEX: provider.ConnectExFunc(func(s wsa.Socket, name wsa.Sockaddr, sendBuf []byte, sent *uint32, ov *wsa.Overlapped) error {
			ss, err := get()
			if err != nil {
				return err
			}
			return ss.ConnectEx(s, name, sendBuf, sent, ov)
		}),
		wsa.WSAID_DISCONNECTEX: provider.DisconnectExFunc(func(s wsa.Socket, ov *wsa.Overlapped, flags, reserved uint32) error {
			ss, err := get()
			if err != nil {
				return err
			}
			return ss.DisconnectEx(s, ov, flags, reserved)
		}),
		wsa.WSAID_TRANSMITFILE: provider.TransmitFileFunc(func(s wsa.Socket, file *os.File, n, perSend uint32, ov *wsa.Overlapped, bufs *wsa.TransmitFileBuffers, flags uint32) error {
			ss, err := get()
			if err != nil {
				return err
			}
			return ss.TransmitFile(s, file, n, perSend, ov, bufs, flags)
		}),
		wsa.WSAID_TRANSMITPACKETS: provider.TransmitPacketsFunc(func(s wsa.Socket, elements []wsa.TransmitPacketsElement, sendSize uint32, ov *wsa.Overlapped, flags uint32) error {
			ss, err := get()
			if err != nil {
				return err
			}
			return ss.TransmitPackets(s, elements, sendSize, ov, flags)
		}),
		wsa.WSAID_WSARECVMSG: provider.WSARecvMsgFunc(func(s wsa.Socket, msg *wsa.WSAMsg, received *uint32, ov *wsa.Overlapped, cr wsa.CompletionRoutine) error {
			ss, err := get()
			if err != nil {
				return err
			}
			return ss.WSARecvMsg(s, msg, received, ov, cr)
		}),
		wsa.WSAID_WSASENDMSG: provider.WSASendMsgFunc(func(s wsa.Socket, msg *wsa.WSAMsg, flags uint32, sent *uint32, ov *wsa.Overlapped, cr wsa.CompletionRoutine) error {
			ss, err := get()
			if err != nil {
				return err
			}
			return ss.WSASendMsg(s, msg, flags, sent, ov, cr)
		}),
	}
}
