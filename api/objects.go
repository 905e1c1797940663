package api

import (
	"sync"
	"sync/atomic"

	"github.com/ws2go/ws2/internal/winobj"
	"github.com/ws2go/ws2/wsa"
)

// socketObj is the api's record of one socket handle (the WSSOCKET of
// ReactOS's ws2_32, plus what the I/O manager keeps on a file object: the
// completion-port association, the notification modes and the handle's own
// event).
type socketObj struct {
	ent       handleEntry
	catalogID atomic.Uint32 // the entry the handle was made or last claimed for
	context   any           // the provider's context (WPUCreateSocketHandle)
	inst      *instance     // the instance whose set (socks) holds it

	// prov is the provider calls on this handle go to: the one whose
	// WSPSocket/WSPAccept/WSPJoinLeaf gave the handle to the api. Until then
	// it is nil and dispatch falls back to the provider of catalogID.
	prov atomic.Pointer[loadedProvider]

	gate refGate // calls in progress, drained by WSACleanup
	// closing is set while the socket is being closed, by Closesocket or
	// by WSACleanup, so that WSPCloseSocket runs once per socket.
	closing atomic.Bool

	// nonOverlapped is set for a socket created without
	// WSA_FLAG_OVERLAPPED (and for one accepted from such a listener): the
	// overlapped arguments of WSASend and friends are ignored on it.
	nonOverlapped atomic.Bool

	// port is the completion port the handle is associated with
	// (CreateIoCompletionPort), set once.
	port atomic.Pointer[portAssoc]
	// modes holds the FILE_SKIP_* flags of SetFileCompletionNotificationModes
	// (only ever added to).
	modes atomic.Uint32
	// ioEv is the handle's own event (the file object's event in Windows):
	// reset when an overlapped operation starts, signalled at each
	// completion unless FILE_SKIP_SET_EVENT_ON_HANDLE. Made on first use.
	ioEv atomic.Pointer[winobj.Event]

	// The extension functions looked up on this socket (cachedExt): the
	// first extN in ext, any more in extMore.
	extMu   sync.Mutex
	ext     [2]extEntry
	extN    int
	extMore map[wsa.GUID]any
}

// extEntry is an extension function cached on a socket.
type extEntry struct {
	guid wsa.GUID
	fn   any
}

// portAssoc is a handle's completion-port association.
type portAssoc struct {
	port *winobj.Port
	key  uintptr
}

func (so *socketObj) handle() wsa.Socket { return wsa.Socket(so.ent.h) }

// ioEvent returns the handle's own event, making it on first use.
func (so *socketObj) ioEvent() *winobj.Event {
	if ev := so.ioEv.Load(); ev != nil {
		return ev
	}
	ev := winobj.NewEvent(true, false)
	if so.ioEv.CompareAndSwap(nil, ev) {
		return ev
	}
	return so.ioEv.Load()
}
