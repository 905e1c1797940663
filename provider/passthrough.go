package provider

import (
	"reflect"
	"sync"
	"sync/atomic"

	"github.com/ws2go/ws2/wsa"
)

// Layer is a layered provider: its identity in a catalog and the
// constructor of its procedure table. Its Startup method is the layer's
// WSPStartup; register it under the layer's path.
//
// # Writing a layered provider
//
// Construct the layer for the catalog it will be installed in. Its
// WSPStartup enumerates that catalog, as a Windows LSP calls
// WSCEnumProtocols, to find its own position in the chain and the next
// provider, whose path it resolves through cat.Registry() (the LoadLibrary
// of WSCGetProviderPath's answer):
//
//	l := &provider.Layer{Catalog: cat, ID: layerGUID, Description: "counter",
//		New: func(pt *provider.PassThrough) provider.ProcTable { return &counter{PassThrough: pt} }}
//
// Embed PassThrough in the layer's table and override only what the layer
// needs; the embedded routine goes down the chain:
//
//	type counter struct {
//		*provider.PassThrough
//		sends atomic.Int64
//	}
//
//	func (c *counter) WSPSend(s wsa.Socket, bufs [][]byte, flags uint32, ov *wsa.Overlapped,
//		cr wsa.CompletionRoutine, tid *provider.ThreadID) (uint32, error) {
//		c.sends.Add(1)
//		return c.PassThrough.WSPSend(s, bufs, flags, ov, cr, tid)
//	}
//
// Extension functions (AcceptEx, ConnectEx, …) are intercepted by
// implementing the matching Wrap method (AcceptExWrapper, …), the results of
// overlapped operations with PassThrough.Intercept. Register the layer's
// WSPStartup under a path (the Windows LSP's DLL path) and install it over
// chosen entries; sockets that select the chain entries then go through the
// layer, and chains over chains stack layers up to MAX_PROTOCOL_CHAIN
// entries:
//
//	err := cat.Registry().Register("example/counter", l.Startup)
//	err = provider.InstallLayer(cat, layerGUID, chainGUID, "example/counter", "Counter", ids)
//
// The layers of provider/lsp (trace, filter, shaper) are complete examples.
type Layer struct {
	// Catalog is the catalog the layer is installed in and is started
	// from: Sessions over another catalog must not start it.
	Catalog *Catalog
	// ID is the ProviderId of the layer entry (the layerGUID of
	// InstallLayer).
	ID wsa.GUID
	// Description is the WSPData.Description Startup reports.
	Description string
	// InterceptCompletions makes the layer start the providers below it with
	// an upcall table of its own, which lets PassThrough.Intercept see the
	// completions of the operations the layer issues down (the re-routing a
	// non-IFS LSP does, spec §3.8). Without it the layer gives the next
	// providers its own upcall table unchanged. See Intercept for what it
	// costs.
	InterceptCompletions bool
	// New makes the procedure table of one started instance from its
	// PassThrough; nil uses the PassThrough itself (a layer that changes
	// nothing).
	New func(pt *PassThrough) ProcTable
}

// Startup is the layer's WSPStartup (a StartupFunc). The api calls it with
// a chain entry whose chain holds the layer; it:
//
//  1. negotiates the version (2.2 only: WSAVERNOTSUPPORTED below);
//  2. finds its layer entry's catalog id L (the entry of provider id ID
//     with ChainLen 0) and its position i in info's chain
//     (ChainEntries[i] == L);
//  3. finds the next entry, ChainEntries[i+1], and starts its provider
//     (path from the catalog, WSPStartup from the registry, the same upcall
//     table): a layer with info unchanged, the base with the base's own
//     entry, since base providers never see chains;
//  4. returns New(pt).
//
// The next provider is started once per instance and provider id and
// cached: sockets of other chains through the same instance (one started
// instance serves every chain entry of its chain GUID, as the api starts one
// per provider id) start theirs on first use. A layer entry or a next
// provider that cannot be found, a path not in the registry, and a chain
// that does not hold the layer below its top are WSAEPROVIDERFAILEDINIT; the
// next provider's own errors pass through. WSPCleanup of the instance calls
// WSPCleanup once for every next provider it started.
func (l *Layer) Startup(version uint16, info *wsa.ProtocolInfo, up UpcallTable) (WSPData, ProcTable, error) {
	major, minor := wsa.LOBYTE(version), wsa.HIBYTE(version)
	if major < 2 || major == 2 && minor < 2 {
		return WSPData{}, nil, wsa.WSAVERNOTSUPPORTED
	}
	if up == nil || info == nil {
		return WSPData{}, nil, wsa.WSAEFAULT
	}
	if l.Catalog == nil {
		return WSPData{}, nil, wsa.WSAEPROVIDERFAILEDINIT
	}
	layerID, ok := LayerEntryID(l.Catalog, l.ID)
	if !ok {
		return WSPData{}, nil, wsa.WSAEPROVIDERFAILEDINIT
	}
	pt := &PassThrough{
		layer:   l,
		layerID: layerID,
		up:      up,
		info:    *info,
		lowers:  make(map[wsa.GUID]*lower),
	}
	pt.down = up
	if l.InterceptCompletions {
		pt.down = &interceptUpcalls{UpcallTable: up, pt: pt}
	}
	r, err := pt.route(info)
	if err != nil {
		_ = pt.cleanupLowers()
		return WSPData{}, nil, err
	}
	pt.first = r.lower
	pt.self = pt
	if l.New != nil {
		t := l.New(pt)
		if isNilTable(t) {
			_ = pt.cleanupLowers()
			return WSPData{}, nil, wsa.WSAEINVALIDPROCTABLE
		}
		pt.self = t
	}
	return WSPData{Version: wsa.WINSOCK_VERSION, HighVersion: wsa.WINSOCK_VERSION, Description: l.Description}, pt.self, nil
}

// PassThrough is one started instance of a layered provider: it forwards
// every routine of ProcTable, and of the optional Poller and Canceler, to
// the next provider of the socket's chain, so a layer that embeds it and
// overrides nothing changes nothing an application can observe. A layer's
// own routines call the embedded PassThrough's to go down the chain.
//
// Handles. PassThrough is an IFS layer (spec §3.4, §3.8): the socket handle
// is the one the base provider made, re-registered at every layer with
// WPUModifyIFSHandle(chain entry, handle), so that the api's table records
// the chain entry and the api sends the calls to the top layer (the api's
// WPUModifyIFSHandle re-tags a live handle and returns it unchanged; an
// upcall table that returns another value fails the socket with
// WSASYSCALLFAILURE). Since handles are the same at every level, overlapped
// I/O, completion ports, event selection and select/WSAPoll pass through
// unchanged: the base completes operations through the same upcall table.
//
// What PassThrough does itself:
//   - getsockopt(SO_PROTOCOL_INFOW) answers the chain entry the socket was
//     made for, as a Windows LSP does, so the application sees the entry it
//     chose; WSPDuplicateSocket returns that entry too (keeping the lower
//     provider's ProviderReserved);
//   - SIO_GET_EXTENSION_FUNCTION_POINTER hands out the lower provider's
//     function, or the layer's wrapper of it when the layer's table
//     implements the matching Wrap method (AcceptExWrapper, …): each
//     wrapper is made and registered once per instance and lower function;
//   - WSPSocket, WSPAccept and WSPJoinLeaf record the socket (its chain
//     entry and next provider; see Socket), WSPCloseSocket forgets it;
//   - WSPSelect and WSPPoll go to the next provider of the first socket of
//     the call;
//   - the routines that take a protocol info (WSPSocket, WSPStringToAddress,
//     WSPAddressToString) pass the next provider the chain entry unchanged
//     when it is a layer and the base's own entry when it is the base.
//
// PassThrough is safe for concurrent use.
type PassThrough struct {
	layer   *Layer
	layerID uint32
	up      UpcallTable // the table the instance was started with
	down    UpcallTable // the table the next providers get: up, or interceptUpcalls
	info    wsa.ProtocolInfo
	self    ProcTable
	first   *lower // the next provider of the chain it was started for

	mu      sync.Mutex
	lowers  map[wsa.GUID]*lower // next providers by provider id
	order   []*lower            // in start order
	cleaned bool
	multi   atomic.Bool // more than one next provider: route per socket

	routes sync.Map // chain entry id → *route
	socks  sync.Map // wsa.Socket → *LayerSocket

	extMu   sync.Mutex
	ext     map[extKey]uintptr // lower extension handle → the handle handed out
	holders []*extHolder       // the layer's wrappers, kept alive by the instance

	icpt intercepts // see Intercept
}

// lower is a next provider started by a PassThrough.
type lower struct {
	id    wsa.GUID
	procs ProcTable
}

// route is the way down for one chain entry.
type route struct {
	chain wsa.ProtocolInfo // the chain entry
	arg   wsa.ProtocolInfo // what the next provider gets: chain, or the base's own entry
	lower *lower
}

// LayerSocket is what a PassThrough knows of one of its sockets.
type LayerSocket struct {
	// Handle is the socket (the same value at every level of the chain).
	Handle wsa.Socket
	// Info is the chain entry the socket was made for (shared: do not
	// modify).
	Info *wsa.ProtocolInfo
	// Overlapped records WSA_FLAG_OVERLAPPED (inherited by accepted
	// sockets).
	Overlapped bool

	route *route
	value atomic.Pointer[layerValue]
}

type layerValue struct{ v any }

// Value returns what the layer stored with SetValue, or nil.
func (ls *LayerSocket) Value() any {
	if p := ls.value.Load(); p != nil {
		return p.v
	}
	return nil
}

// SetValue stores the layer's own state for the socket; it lives as long
// as the PassThrough knows the socket.
func (ls *LayerSocket) SetValue(v any) { ls.value.Store(&layerValue{v}) }

// Upcalls returns the upcall table the instance was started with: the one
// to complete operations the layer completes itself (CompleteOverlapped).
func (pt *PassThrough) Upcalls() UpcallTable { return pt.up }

// Info returns the chain entry the instance was started for.
func (pt *PassThrough) Info() *wsa.ProtocolInfo { return &pt.info }

// LayerID returns the catalog id of the layer entry.
func (pt *PassThrough) LayerID() uint32 { return pt.layerID }

// Self returns the procedure table the instance handed out (what Layer.New
// returned).
func (pt *PassThrough) Self() ProcTable { return pt.self }

// Socket returns what the instance knows of socket s: false for a handle it
// did not make or accept (a call on it is still forwarded).
func (pt *PassThrough) Socket(s wsa.Socket) (*LayerSocket, bool) {
	if v, ok := pt.socks.Load(s); ok {
		return v.(*LayerSocket), true
	}
	return nil, false
}

// Next returns the procedure table of the next provider for socket s: the
// one that made it, or, for a handle the instance does not know, the next
// provider of the chain it was started for.
func (pt *PassThrough) Next(s wsa.Socket) ProcTable {
	if pt.multi.Load() {
		if v, ok := pt.socks.Load(s); ok {
			return v.(*LayerSocket).route.lower.procs
		}
	}
	return pt.first.procs
}

// route finds the way down for chain entry info: the layer's position in
// its chain, the next entry, and that entry's provider, started on first
// use.
func (pt *PassThrough) route(info *wsa.ProtocolInfo) (*route, error) {
	if v, ok := pt.routes.Load(info.CatalogEntryId); ok {
		r := v.(*route)
		if r.chain.ProtocolChain == info.ProtocolChain {
			return r, nil
		}
	}
	i := ChainPosition(info, pt.layerID)
	n := int(info.ProtocolChain.ChainLen)
	if i < 0 || i >= n-1 {
		return nil, wsa.WSAEPROVIDERFAILEDINIT
	}
	next, ok := pt.layer.Catalog.ByID(info.ProtocolChain.ChainEntries[i+1])
	if !ok {
		return nil, wsa.WSAEPROVIDERFAILEDINIT
	}
	r := &route{chain: *info}
	if i+1 == n-1 {
		if !next.Info.IsBase() {
			return nil, wsa.WSAEPROVIDERFAILEDINIT
		}
		r.arg = next.Info // bases never see chains
	} else {
		if !next.Info.IsLayered() {
			return nil, wsa.WSAEPROVIDERFAILEDINIT
		}
		r.arg = *info
	}
	lw, err := pt.start(&next, &r.arg)
	if err != nil {
		return nil, err
	}
	r.lower = lw
	v, _ := pt.routes.LoadOrStore(info.CatalogEntryId, r)
	return v.(*route), nil
}

// start returns the started next provider of entry e, starting it with arg
// on first use (once per provider id).
func (pt *PassThrough) start(e *Entry, arg *wsa.ProtocolInfo) (*lower, error) {
	pt.mu.Lock()
	defer pt.mu.Unlock()
	if pt.cleaned {
		return nil, wsa.WSANOTINITIALISED
	}
	if lw := pt.lowers[e.Info.ProviderId]; lw != nil {
		return lw, nil
	}
	fn, ok := pt.layer.Catalog.Registry().Lookup(e.Path)
	if !ok {
		return nil, wsa.WSAEPROVIDERFAILEDINIT
	}
	a := *arg
	data, procs, err := fn(wsa.WINSOCK_VERSION, &a, pt.down)
	if err != nil {
		return nil, err
	}
	if isNilTable(procs) {
		return nil, wsa.WSAEINVALIDPROCTABLE
	}
	if data.Version != wsa.WINSOCK_VERSION {
		_ = procs.WSPCleanup()
		return nil, wsa.WSAEINVALIDPROVIDER
	}
	lw := &lower{id: e.Info.ProviderId, procs: procs}
	pt.lowers[lw.id] = lw
	pt.order = append(pt.order, lw)
	if len(pt.order) > 1 {
		pt.multi.Store(true)
	}
	return lw, nil
}

// cleanupLowers calls WSPCleanup on every next provider started, last
// first, once.
func (pt *PassThrough) cleanupLowers() error {
	pt.mu.Lock()
	if pt.cleaned {
		pt.mu.Unlock()
		return wsa.WSANOTINITIALISED
	}
	pt.cleaned = true
	order := pt.order
	pt.mu.Unlock()
	var first error
	for i := len(order) - 1; i >= 0; i-- {
		if err := order[i].procs.WSPCleanup(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// adopt registers a handle the next provider made for chain r: it claims
// it for the chain entry (WPUModifyIFSHandle) and records it.
func (pt *PassThrough) adopt(h wsa.Socket, r *route, overlapped bool) (wsa.Socket, error) {
	got, err := pt.up.WPUModifyIFSHandle(r.chain.CatalogEntryId, h)
	if err != nil || got != h {
		if err == nil {
			_ = pt.up.WPUCloseSocketHandle(got)
			err = wsa.WSASYSCALLFAILURE
		}
		_ = r.lower.procs.WSPCloseSocket(h)
		return wsa.INVALID_SOCKET, err
	}
	pt.socks.Store(h, &LayerSocket{Handle: h, Info: &r.chain, Overlapped: overlapped, route: r})
	return h, nil
}

// isNilTable reports a nil interface or one holding a nil pointer.
func isNilTable(t ProcTable) bool {
	if t == nil {
		return true
	}
	v := reflect.ValueOf(t)
	return v.Kind() == reflect.Pointer && v.IsNil()
}

// firstSocket returns the first socket of the sets, in the order the api
// uses (read, write, except).
func firstSocket(sets ...*wsa.FdSet) (wsa.Socket, bool) {
	for _, s := range sets {
		if s != nil && len(s.Array) > 0 {
			return s.Array[0], true
		}
	}
	return 0, false
}

// The routines of ProcTable.

// WSPAccept forwards accept and records the new socket for the listener's
// chain entry.
func (pt *PassThrough) WSPAccept(s wsa.Socket, cond wsa.ConditionProc, callbackData uintptr) (wsa.Socket, wsa.Sockaddr, error) {
	ls, known := pt.Socket(s)
	next := pt.Next(s)
	h, addr, err := next.WSPAccept(s, cond, callbackData)
	if err != nil || !known {
		return h, addr, err
	}
	if h, err = pt.adopt(h, ls.route, ls.Overlapped); err != nil {
		return wsa.INVALID_SOCKET, nil, err
	}
	return h, addr, nil
}

// WSPAddressToString forwards with the next provider's protocol info.
func (pt *PassThrough) WSPAddressToString(addr wsa.Sockaddr, info *wsa.ProtocolInfo) (string, error) {
	if info == nil {
		info = &pt.info
	}
	r, err := pt.route(info)
	if err != nil {
		return "", err
	}
	arg := r.arg
	return r.lower.procs.WSPAddressToString(addr, &arg)
}

// WSPAsyncSelect forwards.
func (pt *PassThrough) WSPAsyncSelect(s wsa.Socket, hwnd wsa.Handle, msg uint32, events int32) error {
	return pt.Next(s).WSPAsyncSelect(s, hwnd, msg, events)
}

// WSPBind forwards.
func (pt *PassThrough) WSPBind(s wsa.Socket, name wsa.Sockaddr) error {
	return pt.Next(s).WSPBind(s, name)
}

// WSPCancelBlockingCall forwards.
func (pt *PassThrough) WSPCancelBlockingCall() error { return pt.first.procs.WSPCancelBlockingCall() }

// WSPCleanup ends the instance: WSPCleanup once for every next provider it
// started (last started first); a second call is WSANOTINITIALISED.
func (pt *PassThrough) WSPCleanup() error {
	err := pt.cleanupLowers()
	if err == wsa.WSANOTINITIALISED {
		return err
	}
	pt.abortRetained(0)
	pt.socks.Clear()
	return err
}

// WSPCloseSocket forwards and forgets the socket once it is closed.
func (pt *PassThrough) WSPCloseSocket(s wsa.Socket) error {
	ls, known := pt.Socket(s)
	if err := pt.Next(s).WSPCloseSocket(s); err != nil {
		return err
	}
	if known {
		pt.socks.CompareAndDelete(s, ls)
	}
	pt.abortRetained(s)
	return nil
}

// WSPConnect forwards.
func (pt *PassThrough) WSPConnect(s wsa.Socket, name wsa.Sockaddr, callerData, calleeData []byte, sqos, gqos *wsa.QOS) error {
	return pt.Next(s).WSPConnect(s, name, callerData, calleeData, sqos, gqos)
}

// WSPDuplicateSocket forwards; on success the protocol info returned is the
// socket's chain entry, with the lower provider's ProviderReserved.
func (pt *PassThrough) WSPDuplicateSocket(s wsa.Socket, processID uint32) (wsa.ProtocolInfo, error) {
	p, err := pt.Next(s).WSPDuplicateSocket(s, processID)
	if err != nil {
		return p, err
	}
	if ls, ok := pt.Socket(s); ok {
		reserved := p.ProviderReserved
		p = *ls.Info
		p.ProviderReserved = reserved
	}
	return p, nil
}

// WSPEnumNetworkEvents forwards.
func (pt *PassThrough) WSPEnumNetworkEvents(s wsa.Socket, event wsa.Handle) (wsa.NetworkEvents, error) {
	return pt.Next(s).WSPEnumNetworkEvents(s, event)
}

// WSPEventSelect forwards.
func (pt *PassThrough) WSPEventSelect(s wsa.Socket, event wsa.Handle, events int32) error {
	return pt.Next(s).WSPEventSelect(s, event, events)
}

// WSPGetOverlappedResult forwards, except for an operation the layer
// intercepted (see Intercept), which it answers itself.
func (pt *PassThrough) WSPGetOverlappedResult(s wsa.Socket, ov *wsa.Overlapped, wait bool) (uint32, uint32, error) {
	if n, flags, err, ok := pt.interceptedResult(s, ov, wait); ok {
		return n, flags, err
	}
	return pt.Next(s).WSPGetOverlappedResult(s, ov, wait)
}

// WSPGetPeerName forwards.
func (pt *PassThrough) WSPGetPeerName(s wsa.Socket) (wsa.Sockaddr, error) {
	return pt.Next(s).WSPGetPeerName(s)
}

// WSPGetSockName forwards.
func (pt *PassThrough) WSPGetSockName(s wsa.Socket) (wsa.Sockaddr, error) {
	return pt.Next(s).WSPGetSockName(s)
}

// WSPGetSockOpt forwards, except SO_PROTOCOL_INFOW on a socket of the
// layer, which is the socket's chain entry (a buffer shorter than
// wsa.SizeofProtocolInfo is WSAEFAULT).
func (pt *PassThrough) WSPGetSockOpt(s wsa.Socket, level, optname int32, optval []byte) (int32, error) {
	if level == wsa.SOL_SOCKET && optname == wsa.SO_PROTOCOL_INFOW {
		if ls, ok := pt.Socket(s); ok {
			if err := ls.Info.Marshal(optval); err != nil {
				return 0, err
			}
			return wsa.SizeofProtocolInfo, nil
		}
	}
	return pt.Next(s).WSPGetSockOpt(s, level, optname, optval)
}

// WSPGetQOSByName forwards.
func (pt *PassThrough) WSPGetQOSByName(s wsa.Socket, name []byte) (*wsa.QOS, error) {
	return pt.Next(s).WSPGetQOSByName(s, name)
}

// WSPIoctl forwards, except SIO_GET_EXTENSION_FUNCTION_POINTER (see
// PassThrough).
func (pt *PassThrough) WSPIoctl(s wsa.Socket, code uint32, in, out []byte, ov *wsa.Overlapped, cr wsa.CompletionRoutine, tid *ThreadID) (uint32, error) {
	if code == wsa.SIO_GET_EXTENSION_FUNCTION_POINTER {
		return pt.extensionPointer(s, in, out, ov, cr, tid)
	}
	return pt.Next(s).WSPIoctl(s, code, in, out, ov, cr, tid)
}

// WSPJoinLeaf forwards and records a new socket as WSPAccept does.
func (pt *PassThrough) WSPJoinLeaf(s wsa.Socket, name wsa.Sockaddr, callerData, calleeData []byte, sqos, gqos *wsa.QOS, flags uint32) (wsa.Socket, error) {
	ls, known := pt.Socket(s)
	h, err := pt.Next(s).WSPJoinLeaf(s, name, callerData, calleeData, sqos, gqos, flags)
	if err != nil || !known || h == s {
		return h, err
	}
	return pt.adopt(h, ls.route, ls.Overlapped)
}

// WSPListen forwards.
func (pt *PassThrough) WSPListen(s wsa.Socket, backlog int32) error {
	return pt.Next(s).WSPListen(s, backlog)
}

// WSPRecv forwards.
func (pt *PassThrough) WSPRecv(s wsa.Socket, bufs [][]byte, flags *uint32, ov *wsa.Overlapped, cr wsa.CompletionRoutine, tid *ThreadID) (uint32, error) {
	return pt.Next(s).WSPRecv(s, bufs, flags, ov, cr, tid)
}

// WSPRecvDisconnect forwards.
func (pt *PassThrough) WSPRecvDisconnect(s wsa.Socket, disconnectData []byte) error {
	return pt.Next(s).WSPRecvDisconnect(s, disconnectData)
}

// WSPRecvFrom forwards.
func (pt *PassThrough) WSPRecvFrom(s wsa.Socket, bufs [][]byte, flags *uint32, from *wsa.Sockaddr, ov *wsa.Overlapped, cr wsa.CompletionRoutine, tid *ThreadID) (uint32, error) {
	return pt.Next(s).WSPRecvFrom(s, bufs, flags, from, ov, cr, tid)
}

// WSPSelect forwards to the next provider of the first socket of the sets.
func (pt *PassThrough) WSPSelect(readfds, writefds, exceptfds *wsa.FdSet, timeout *wsa.Timeval) (int32, error) {
	next := pt.first.procs
	if s, ok := firstSocket(readfds, writefds, exceptfds); ok {
		next = pt.Next(s)
	}
	return next.WSPSelect(readfds, writefds, exceptfds, timeout)
}

// WSPSend forwards.
func (pt *PassThrough) WSPSend(s wsa.Socket, bufs [][]byte, flags uint32, ov *wsa.Overlapped, cr wsa.CompletionRoutine, tid *ThreadID) (uint32, error) {
	return pt.Next(s).WSPSend(s, bufs, flags, ov, cr, tid)
}

// WSPSendDisconnect forwards.
func (pt *PassThrough) WSPSendDisconnect(s wsa.Socket, disconnectData []byte) error {
	return pt.Next(s).WSPSendDisconnect(s, disconnectData)
}

// WSPSendTo forwards.
func (pt *PassThrough) WSPSendTo(s wsa.Socket, bufs [][]byte, flags uint32, to wsa.Sockaddr, ov *wsa.Overlapped, cr wsa.CompletionRoutine, tid *ThreadID) (uint32, error) {
	return pt.Next(s).WSPSendTo(s, bufs, flags, to, ov, cr, tid)
}

// WSPSetSockOpt forwards.
func (pt *PassThrough) WSPSetSockOpt(s wsa.Socket, level, optname int32, optval []byte) error {
	return pt.Next(s).WSPSetSockOpt(s, level, optname, optval)
}

// WSPShutdown forwards.
func (pt *PassThrough) WSPShutdown(s wsa.Socket, how int32) error {
	return pt.Next(s).WSPShutdown(s, how)
}

// WSPSocket makes the socket through the next provider of info's chain
// (af, typ and protocol unchanged; the next provider gets the chain entry,
// or the base's own entry when it is the base) and claims the handle for the
// chain entry. A nil info means the entry the instance was started for.
func (pt *PassThrough) WSPSocket(af, typ, protocol int32, info *wsa.ProtocolInfo, g uint32, flags uint32) (wsa.Socket, error) {
	if info == nil {
		info = &pt.info
	}
	r, err := pt.route(info)
	if err != nil {
		return wsa.INVALID_SOCKET, err
	}
	arg := r.arg
	h, err := r.lower.procs.WSPSocket(af, typ, protocol, &arg, g, flags)
	if err != nil {
		return wsa.INVALID_SOCKET, err
	}
	return pt.adopt(h, r, flags&wsa.WSA_FLAG_OVERLAPPED != 0)
}

// WSPStringToAddress forwards with the next provider's protocol info.
func (pt *PassThrough) WSPStringToAddress(addr string, af int32, info *wsa.ProtocolInfo) (wsa.Sockaddr, error) {
	if info == nil {
		info = &pt.info
	}
	r, err := pt.route(info)
	if err != nil {
		return nil, err
	}
	arg := r.arg
	return r.lower.procs.WSPStringToAddress(addr, af, &arg)
}

// WSPPoll implements Poller: it forwards to the next provider of the first
// socket of fds, WSAEOPNOTSUPP if that provider is not a Poller.
func (pt *PassThrough) WSPPoll(fds []wsa.PollFd, timeout int32) (int32, error) {
	next := pt.first.procs
	for _, f := range fds {
		if _, ok := pt.socks.Load(f.Fd); ok {
			next = pt.Next(f.Fd)
			break
		}
	}
	p, ok := next.(Poller)
	if !ok {
		return 0, wsa.WSAEOPNOTSUPP
	}
	return p.WSPPoll(fds, timeout)
}

// WSPCancelIo implements Canceler: it cancels the layer's intercepted
// operations (see Intercept) and forwards, WSAEOPNOTSUPP if the next
// provider is not a Canceler.
func (pt *PassThrough) WSPCancelIo(s wsa.Socket, ov *wsa.Overlapped) error {
	return pt.cancel(s, ov)
}

var (
	_ ProcTable = (*PassThrough)(nil)
	_ Poller    = (*PassThrough)(nil)
	_ Canceler  = (*PassThrough)(nil)
)
