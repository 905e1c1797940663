package provider

import (
	"encoding/binary"
	"os"
	"weak"

	"github.com/ws2go/ws2/wsa"
)

// Extension functions through a layer. A layered provider's table that
// implements one of these interfaces intercepts the function: for each
// lower function it is asked once per started instance (under a lock: do not
// look up extension functions from inside) and what it returns is handed out
// in place of the lower one. Returning nil, or not implementing the
// interface, hands out the lower function itself (its handle, unchanged).
// The wrapper gets the same handles the application passes; it calls lower
// to go down the chain.
type (
	// AcceptExWrapper intercepts AcceptEx.
	AcceptExWrapper interface {
		WrapAcceptEx(lower AcceptExFunc) AcceptExFunc
	}
	// ConnectExWrapper intercepts ConnectEx.
	ConnectExWrapper interface {
		WrapConnectEx(lower ConnectExFunc) ConnectExFunc
	}
	// DisconnectExWrapper intercepts DisconnectEx.
	DisconnectExWrapper interface {
		WrapDisconnectEx(lower DisconnectExFunc) DisconnectExFunc
	}
	// TransmitFileWrapper intercepts TransmitFile.
	TransmitFileWrapper interface {
		WrapTransmitFile(lower TransmitFileFunc) TransmitFileFunc
	}
	// TransmitPacketsWrapper intercepts TransmitPackets.
	TransmitPacketsWrapper interface {
		WrapTransmitPackets(lower TransmitPacketsFunc) TransmitPacketsFunc
	}
	// WSARecvMsgWrapper intercepts WSARecvMsg.
	WSARecvMsgWrapper interface {
		WrapWSARecvMsg(lower WSARecvMsgFunc) WSARecvMsgFunc
	}
	// WSASendMsgWrapper intercepts WSASendMsg.
	WSASendMsgWrapper interface {
		WrapWSASendMsg(lower WSASendMsgFunc) WSASendMsgFunc
	}
)

// extKey names one lower extension function.
type extKey struct {
	guid  wsa.GUID
	lower uintptr
}

// extHolder holds a layer's wrapper; the PassThrough keeps it alive, the
// registered thunk only points to it weakly, so a finished instance is not
// kept alive by the (never freed) table of extension handles. Calling a
// function of a finished instance fails WSANOTINITIALISED.
type extHolder struct{ fn any }

// LowerExtension returns the next provider's extension function of GUID g
// for socket s (what the layer's Wrap methods get as lower).
func (pt *PassThrough) LowerExtension(s wsa.Socket, g wsa.GUID) (any, error) {
	var in [wsa.SizeofGUID]byte
	_ = g.Marshal(in[:])
	var out [8]byte
	if _, err := pt.Next(s).WSPIoctl(s, wsa.SIO_GET_EXTENSION_FUNCTION_POINTER, in[:], out[:], nil, nil, nil); err != nil {
		return nil, err
	}
	fn, ok := ExtensionFunction(uintptr(binary.LittleEndian.Uint64(out[:])))
	if !ok {
		return nil, wsa.WSASYSCALLFAILURE
	}
	return fn, nil
}

// extensionPointer is SIO_GET_EXTENSION_FUNCTION_POINTER through the layer:
// the next provider's answer (its errors unchanged), with the layer's
// wrapper's handle in place of the function's when the layer wraps it. With
// ov on an overlapped socket of the layer the call completes at once and its
// completion is delivered before it returns.
func (pt *PassThrough) extensionPointer(s wsa.Socket, in, out []byte, ov *wsa.Overlapped, cr wsa.CompletionRoutine, tid *ThreadID) (uint32, error) {
	var buf [8]byte
	n, err := pt.Next(s).WSPIoctl(s, wsa.SIO_GET_EXTENSION_FUNCTION_POINTER, in, buf[:], nil, nil, nil)
	if err != nil {
		return 0, err
	}
	if n != 8 {
		return 0, wsa.WSASYSCALLFAILURE
	}
	if len(out) < 8 {
		return 0, wsa.WSAEFAULT
	}
	g, err := wsa.UnmarshalGUID(in)
	if err != nil {
		return 0, wsa.WSAEFAULT
	}
	h := pt.extHandle(g, uintptr(binary.LittleEndian.Uint64(buf[:])))
	binary.LittleEndian.PutUint64(out, uint64(h))
	if ov != nil {
		if ls, ok := pt.Socket(s); ok && ls.Overlapped {
			if err := CompleteOverlapped(pt.up, s, ov, cr, tid, 0, 8, 0); err != nil {
				return 0, err
			}
		}
	}
	return 8, nil
}

// extHandle returns the handle to hand out for lower function handle lh of
// GUID g: the layer's wrapper's (made and registered once per instance), or
// lh.
func (pt *PassThrough) extHandle(g wsa.GUID, lh uintptr) uintptr {
	pt.extMu.Lock()
	defer pt.extMu.Unlock()
	k := extKey{g, lh}
	if h, ok := pt.ext[k]; ok {
		return h
	}
	h := lh
	if fn, ok := ExtensionFunction(lh); ok {
		if w := pt.wrapExtension(g, fn); w != 0 {
			h = w
		}
	}
	if pt.ext == nil {
		pt.ext = make(map[extKey]uintptr)
	}
	pt.ext[k] = h
	return h
}

// wrapExtension asks the layer's table for a wrapper of fn and registers a
// thunk to it; 0 when the layer does not wrap it.
func (pt *PassThrough) wrapExtension(g wsa.GUID, fn any) uintptr {
	hold := &extHolder{}
	wh := weak.Make(hold)
	get := func() (any, error) {
		if h := wh.Value(); h != nil {
			return h.fn, nil
		}
		return nil, wsa.WSANOTINITIALISED
	}
	var thunk any
	switch g {
	case wsa.WSAID_ACCEPTEX:
		f, ok1 := fn.(AcceptExFunc)
		w, ok2 := pt.self.(AcceptExWrapper)
		if !ok1 || !ok2 {
			return 0
		}
		if hold.fn = w.WrapAcceptEx(f); hold.fn.(AcceptExFunc) == nil {
			return 0
		}
		thunk = AcceptExFunc(func(listen, accept wsa.Socket, buf []byte, rx, ll, rl uint32, n *uint32, ov *wsa.Overlapped) error {
			fn, err := get()
			if err != nil {
				return err
			}
			return fn.(AcceptExFunc)(listen, accept, buf, rx, ll, rl, n, ov)
		})
	case wsa.WSAID_CONNECTEX:
		f, ok1 := fn.(ConnectExFunc)
		w, ok2 := pt.self.(ConnectExWrapper)
		if !ok1 || !ok2 {
			return 0
		}
		if hold.fn = w.WrapConnectEx(f); hold.fn.(ConnectExFunc) == nil {
			return 0
		}
		thunk = ConnectExFunc(func(s wsa.Socket, name wsa.Sockaddr, sendBuf []byte, sent *uint32, ov *wsa.Overlapped) error {
			fn, err := get()
			if err != nil {
				return err
			}
			return fn.(ConnectExFunc)(s, name, sendBuf, sent, ov)
		})
	case wsa.WSAID_DISCONNECTEX:
		f, ok1 := fn.(DisconnectExFunc)
		w, ok2 := pt.self.(DisconnectExWrapper)
		if !ok1 || !ok2 {
			return 0
		}
		if hold.fn = w.WrapDisconnectEx(f); hold.fn.(DisconnectExFunc) == nil {
			return 0
		}
		thunk = DisconnectExFunc(func(s wsa.Socket, ov *wsa.Overlapped, flags, reserved uint32) error {
			fn, err := get()
			if err != nil {
				return err
			}
			return fn.(DisconnectExFunc)(s, ov, flags, reserved)
		})
	case wsa.WSAID_TRANSMITFILE:
		f, ok1 := fn.(TransmitFileFunc)
		w, ok2 := pt.self.(TransmitFileWrapper)
		if !ok1 || !ok2 {
			return 0
		}
		if hold.fn = w.WrapTransmitFile(f); hold.fn.(TransmitFileFunc) == nil {
			return 0
		}
		thunk = TransmitFileFunc(func(s wsa.Socket, file *os.File, n, perSend uint32, ov *wsa.Overlapped, bufs *wsa.TransmitFileBuffers, flags uint32) error {
			fn, err := get()
			if err != nil {
				return err
			}
			return fn.(TransmitFileFunc)(s, file, n, perSend, ov, bufs, flags)
		})
	case wsa.WSAID_TRANSMITPACKETS:
		f, ok1 := fn.(TransmitPacketsFunc)
		w, ok2 := pt.self.(TransmitPacketsWrapper)
		if !ok1 || !ok2 {
			return 0
		}
		if hold.fn = w.WrapTransmitPackets(f); hold.fn.(TransmitPacketsFunc) == nil {
			return 0
		}
		thunk = TransmitPacketsFunc(func(s wsa.Socket, elements []wsa.TransmitPacketsElement, sendSize uint32, ov *wsa.Overlapped, flags uint32) error {
			fn, err := get()
			if err != nil {
				return err
			}
			return fn.(TransmitPacketsFunc)(s, elements, sendSize, ov, flags)
		})
	case wsa.WSAID_WSARECVMSG:
		f, ok1 := fn.(WSARecvMsgFunc)
		w, ok2 := pt.self.(WSARecvMsgWrapper)
		if !ok1 || !ok2 {
			return 0
		}
		if hold.fn = w.WrapWSARecvMsg(f); hold.fn.(WSARecvMsgFunc) == nil {
			return 0
		}
		thunk = WSARecvMsgFunc(func(s wsa.Socket, msg *wsa.WSAMsg, n *uint32, ov *wsa.Overlapped, cr wsa.CompletionRoutine) error {
			fn, err := get()
			if err != nil {
				return err
			}
			return fn.(WSARecvMsgFunc)(s, msg, n, ov, cr)
		})
	case wsa.WSAID_WSASENDMSG:
		f, ok1 := fn.(WSASendMsgFunc)
		w, ok2 := pt.self.(WSASendMsgWrapper)
		if !ok1 || !ok2 {
			return 0
		}
		if hold.fn = w.WrapWSASendMsg(f); hold.fn.(WSASendMsgFunc) == nil {
			return 0
		}
		thunk = WSASendMsgFunc(func(s wsa.Socket, msg *wsa.WSAMsg, flags uint32, n *uint32, ov *wsa.Overlapped, cr wsa.CompletionRoutine) error {
			fn, err := get()
			if err != nil {
				return err
			}
			return fn.(WSASendMsgFunc)(s, msg, flags, n, ov, cr)
		})
	default:
		return 0
	}
	pt.holders = append(pt.holders, hold)
	return NewExtensionHandle(thunk)
}
