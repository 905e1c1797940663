package wsp

import (
	"encoding/binary"
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
