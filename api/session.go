package api

import (
	"errors"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/ws2go/ws2/internal/winobj"
	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/wsa"
)

// Session is one Winsock instance: the analog of a process's ws2_32 state
// (WSPROCESS in ReactOS). It holds the WSAStartup reference count, the
// handle table, the providers loaded for it and its APC queue. Several
// Sessions live in one process independently, each on its own catalog.
//
// All methods are safe for concurrent use. Every method fails with
// WSANOTINITIALISED before the first WSAStartup and after the WSACleanup that
// drops the last reference.
type Session struct {
	catalog *provider.Catalog

	mu  sync.Mutex // serialises WSAStartup and WSACleanup
	cur atomic.Pointer[instance]
}

// instance is one started life of a Session, from the WSAStartup that finds
// it stopped to the WSACleanup that drops the last reference. A later
// WSAStartup makes a new one: fresh handle table, providers loaded anew.
type instance struct {
	catalog *provider.Catalog
	refs    int // guarded by Session.mu
	data    atomic.Pointer[wsa.WSAData]

	dead   atomic.Bool   // WSACleanup has begun
	done   chan struct{} // closed when WSACleanup begins: cancels waits in the api
	doneEv *winobj.Event // set when WSACleanup begins: ends WSAGetOverlappedResult waits
	gate   refGate       // calls in progress that are not on a socket

	table    *handleTable
	apc      *winobj.APCQueue  // the Session's one APC queue: its "thread"
	tid      provider.ThreadID // names apc; given to every overlapped-capable WSP call
	up       *upcalls
	openType atomic.Int32 // SO_OPENTYPE

	omu  sync.Mutex
	ops  map[*wsa.Overlapped]*opRecord // overlapped operations issued and not completed that need a record
	nops atomic.Int32                  // len(ops), read without omu: complete skips the map when 0

	smu   sync.Mutex
	socks map[*socketObj]struct{} // every socket object not yet drained

	pmu         sync.Mutex
	provs       map[wsa.GUID]*loadedProvider
	order       []*loadedProvider // load order
	provsClosed bool
}

// loadedProvider is a provider started for a Session (TPROVIDER).
type loadedProvider struct {
	id    wsa.GUID
	path  string
	procs provider.ProcTable
	data  provider.WSPData
}

// NewSession returns a Session over catalog that is not started yet: every
// call fails with WSANOTINITIALISED until (*Session).WSAStartup succeeds.
// Provider paths resolve through catalog.Registry().
func NewSession(catalog *provider.Catalog) *Session { return &Session{catalog: catalog} }

// WSAStartup is WSAStartup for a new Session over catalog: it returns the
// Session started once (reference count 1). Its WSAData is
// (*Session).WSAData. A nil catalog is WSASYSNOTREADY; a version with major 0
// is WSAVERNOTSUPPORTED.
func WSAStartup(version uint16, catalog *provider.Catalog) (*Session, error) {
	s := NewSession(catalog)
	if _, err := s.WSAStartup(version); err != nil {
		return nil, err
	}
	return s, nil
}

// Versions of the negotiation (spec §2.1).
const (
	version11 uint16 = 0x0101 // MAKEWORD(1,1)
	version22 uint16 = 0x0202 // MAKEWORD(2,2)
)

// negotiate implements the version rule of spec §2.1 and fills the WSAData
// Windows returns. The WSAData is filled even when the version is refused, as
// Windows does (wHighVersion tells the caller what it could have asked for).
func negotiate(req uint16) (wsa.WSAData, error) {
	d := wsa.WSAData{
		HighVersion:  version22,
		Description:  "WinSock 2.0",
		SystemStatus: "Running",
	}
	major, minor := wsa.LOBYTE(req), wsa.HIBYTE(req)
	switch {
	case major == 0:
		return d, wsa.WSAVERNOTSUPPORTED
	case major == 1:
		d.Version = req
		if minor > 1 {
			d.Version = version11
		}
		d.MaxSockets, d.MaxUdpDg = 32767, 65467
	case major == 2:
		d.Version = req
		if minor > 2 {
			d.Version = version22
		}
	default:
		d.Version = version22
	}
	return d, nil
}

// WSAStartup is WSAStartup on s: it negotiates version (spec §2.1) and adds a
// reference. On a stopped Session it starts afresh. The WSAData is returned
// even with WSAVERNOTSUPPORTED, as in Windows; the Session then stays as it
// was. A nil Session is WSAEFAULT (the lpWSAData == NULL case).
func (s *Session) WSAStartup(version uint16) (wsa.WSAData, error) {
	if s == nil {
		return wsa.WSAData{}, wsa.WSAEFAULT
	}
	d, err := negotiate(version)
	if err != nil {
		return d, err
	}
	if s.catalog == nil {
		return d, wsa.WSASYSNOTREADY
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	inst := s.cur.Load()
	if inst == nil {
		inst = newInstance(s.catalog)
		inst.data.Store(&d)
		s.cur.Store(inst) // published with its data
	}
	inst.refs++
	inst.data.Store(&d)
	return d, nil
}

// WSAData returns the WSAData of the most recent successful WSAStartup of the
// running Session, or the zero WSAData when it is not started.
func (s *Session) WSAData() wsa.WSAData {
	if s == nil {
		return wsa.WSAData{}
	}
	if inst := s.cur.Load(); inst != nil {
		return *inst.data.Load()
	}
	return wsa.WSAData{}
}

func newInstance(c *provider.Catalog) *instance {
	inst := &instance{
		catalog: c,
		done:    make(chan struct{}),
		doneEv:  winobj.NewEvent(true, false),
		table:   newHandleTable(),
		apc:     winobj.NewAPCQueue(),
		ops:     make(map[*wsa.Overlapped]*opRecord),
		socks:   make(map[*socketObj]struct{}),
		provs:   make(map[wsa.GUID]*loadedProvider),
	}
	inst.gate.init(nil)
	inst.up = &upcalls{inst: inst}
	h, _ := inst.table.insert(&handleEntry{kind: kindAPCQueue, apc: inst.apc}) // the first handle of an empty table
	inst.tid = provider.ThreadID{ThreadHandle: wsa.Handle(h)}
	return inst
}

// WSACleanup is WSACleanup: it drops a reference, and at the last one ends
// the Session as Windows does (spec §2.1):
//
//  1. from then on every call fails with WSANOTINITIALISED, queued
//     completion routines are discarded and no new one can be queued, and
//     overlapped completions are recorded in their WSAOVERLAPPED but
//     delivered no more: no event, no completion packet, no routine;
//  2. every socket the application holds is closed abortively, as
//     closesocket with SO_LINGER {1, 0} would: the api sets that option
//     through WSPSetSockOpt (errors ignored) and calls WSPCloseSocket, which
//     ends the calls blocked on the socket and aborts its pending
//     overlapped operations with WSA_OPERATION_ABORTED (the provider's job;
//     by rule 1 those completions reach only the WSAOVERLAPPED);
//  3. it waits until every call in progress on the Session has returned;
//  4. WSPCleanup is called once per provider started, in reverse order of
//     loading (errors ignored), and every handle is freed: event objects,
//     completion ports and message queues are closed, which ends the waits
//     on them (WSAWaitForMultipleEvents fails with WSANOTINITIALISED,
//     GetQueuedCompletionStatus with ERROR_ABANDONED_WAIT_0, GetMessage with
//     WSANOTINITIALISED), and WSAGetOverlappedResult waits end with
//     WSANOTINITIALISED.
//
// A later WSAStartup on the same Session starts afresh. WSACleanup on a
// Session not started is WSANOTINITIALISED. Because of step 3, WSACleanup
// must not be called from code that runs inside a call on the same Session
// (a condition function of WSAAccept, a provider): it would wait for itself.
func (s *Session) WSACleanup() error {
	if s == nil {
		return wsa.WSANOTINITIALISED
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	inst := s.cur.Load()
	if inst == nil {
		return wsa.WSANOTINITIALISED
	}
	if inst.refs--; inst.refs > 0 {
		return nil
	}
	inst.dead.Store(true)
	s.cur.Store(nil)
	inst.shutdown()
	return nil
}

// shutdown tears an instance down; see WSACleanup.
func (inst *instance) shutdown() {
	close(inst.done)
	_ = inst.doneEv.Set()
	_ = inst.apc.Close() // queued routines never run; no new ones
	socks := inst.socketObjs()
	for _, so := range socks {
		inst.reap(so)
	}
	for _, so := range socks {
		<-so.gate.shut()
	}
	<-inst.gate.shut()
	// Calls that were in progress have returned; a socket one of them
	// created was reaped by that call or is reaped here.
	for _, so := range inst.socketObjs() {
		inst.reap(so)
		<-so.gate.shut()
		socks = append(socks, so)
	}

	inst.pmu.Lock()
	inst.provsClosed = true
	order := slices.Clone(inst.order)
	inst.pmu.Unlock()
	for _, p := range slices.Backward(order) {
		_ = p.procs.WSPCleanup()
	}
	for _, e := range inst.table.close() {
		closeObject(e)
	}
	for _, so := range socks {
		if ev := so.ioEv.Load(); ev != nil {
			_ = ev.Close()
		}
	}
}

func (inst *instance) socketObjs() []*socketObj {
	inst.smu.Lock()
	defer inst.smu.Unlock()
	out := make([]*socketObj, 0, len(inst.socks))
	for so := range inst.socks {
		out = append(out, so)
	}
	return out
}

// reap closes, abortively and once, a socket the application holds (one a
// provider gave back to the api) when the Session ends. Handles the api never
// got back belong to providers, which close them.
func (inst *instance) reap(so *socketObj) {
	p := so.prov.Load()
	if p == nil || !so.closing.CompareAndSwap(false, true) {
		return
	}
	if inst.table.socket(so.handle()) != so {
		return // closed already
	}
	var l [wsa.SizeofLinger]byte
	_ = wsa.Linger{Onoff: 1, Linger: 0}.Marshal(l[:])
	_ = p.procs.WSPSetSockOpt(so.handle(), wsa.SOL_SOCKET, wsa.SO_LINGER, l[:])
	_ = p.procs.WSPCloseSocket(so.handle())
	inst.forget(so)
}

// gateIdle drops a socket whose gate is closed and drained from the
// instance's set.
func (so *socketObj) gateIdle() {
	so.inst.smu.Lock()
	delete(so.inst.socks, so)
	so.inst.smu.Unlock()
}

// forget closes a closed socket's gate (calls in progress finish, new ones
// fail with WSAENOTSOCK), then frees its handle if the table still holds it.
// In that order, no call can enter the old socket once its value is free for
// a new one.
func (inst *instance) forget(so *socketObj) {
	so.gate.close()
	inst.table.remove(&so.ent)
}

// newSocketObj makes and registers the object of a new socket handle.
func (inst *instance) newSocketObj(catalogID uint32, ctx any) (*socketObj, error) {
	so := &socketObj{context: ctx, inst: inst}
	so.catalogID.Store(catalogID)
	so.ent = handleEntry{kind: kindSocket, sock: so}
	so.gate.init(so)
	inst.smu.Lock()
	inst.socks[so] = struct{}{}
	inst.smu.Unlock()
	if _, err := inst.table.insert(&so.ent); err != nil {
		inst.smu.Lock()
		delete(inst.socks, so)
		inst.smu.Unlock()
		return nil, err
	}
	return so, nil
}

// dispatch returns the provider calls on so go to: the one that gave the
// handle to the api, else the started provider of the handle's catalog
// entry (a handle a provider made but never returned, as SIO_BASE_HANDLE
// exposes), else nil.
func (inst *instance) dispatch(so *socketObj) *loadedProvider {
	if p := so.prov.Load(); p != nil {
		return p
	}
	e, ok := inst.catalog.ByID(so.catalogID.Load())
	if !ok {
		return nil
	}
	inst.pmu.Lock()
	defer inst.pmu.Unlock()
	return inst.provs[e.Info.ProviderId]
}

// load returns the provider of catalog entry e, starting it on first use
// (spec §3.1): once per ProviderId per Session, with MAKEWORD(2,2), the
// entry's protocol information and the Session's upcall table. A path not in
// the registry is WSAEPROVIDERFAILEDINIT, a nil procedure table
// WSAEINVALIDPROCTABLE, a version other than 2.2 WSAEINVALIDPROVIDER (the
// provider then gets its WSPCleanup), and WSPStartup's own errors pass
// through. A failed start is retried at the next socket that needs it.
func (inst *instance) load(e *provider.Entry) (*loadedProvider, error) {
	inst.pmu.Lock()
	defer inst.pmu.Unlock()
	if p := inst.provs[e.Info.ProviderId]; p != nil {
		return p, nil
	}
	if inst.provsClosed {
		return nil, wsa.WSANOTINITIALISED
	}
	start, ok := inst.catalog.Registry().Lookup(e.Path)
	if !ok {
		return nil, wsa.WSAEPROVIDERFAILEDINIT
	}
	info := e.Info
	data, procs, err := start(version22, &info, inst.up)
	if err != nil {
		return nil, providerErr(err)
	}
	if isNil(procs) {
		return nil, wsa.WSAEINVALIDPROCTABLE
	}
	if data.Version != version22 {
		_ = procs.WSPCleanup()
		return nil, wsa.WSAEINVALIDPROVIDER
	}
	p := &loadedProvider{id: e.Info.ProviderId, path: e.Path, procs: procs, data: data}
	inst.provs[p.id] = p
	inst.order = append(inst.order, p)
	return p, nil
}

// isNil reports a nil interface or an interface holding a nil pointer, map,
// slice, func or channel.
func isNil(v any) bool {
	if v == nil {
		return true
	}
	switch r := reflect.ValueOf(v); r.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Func, reflect.Chan, reflect.Interface:
		return r.IsNil()
	}
	return false
}

// providerErr turns what a provider returned into the api's error: a
// wsa.Errno (unwrapped from whatever the provider wrapped it in) or, for an
// error that carries none or carries 0, WSASYSCALLFAILURE (ReactOS's rule
// for a provider that failed without an error code).
func providerErr(err error) error {
	if err == nil {
		return nil
	}
	if e, ok := err.(wsa.Errno); ok && e != 0 {
		return err // the usual case: no errors.As, no boxing again
	}
	var e wsa.Errno
	if errors.As(err, &e) && e != 0 {
		return e
	}
	return wsa.WSASYSCALLFAILURE
}

// started returns the running instance.
func (s *Session) started() (*instance, error) {
	if s == nil {
		return nil, wsa.WSANOTINITIALISED
	}
	if inst := s.cur.Load(); inst != nil {
		return inst, nil
	}
	return nil, wsa.WSANOTINITIALISED
}

// enter starts a call that is not on a socket but may reach a provider; the
// caller must call inst.gate.leave() when done.
func (s *Session) enter() (*instance, error) {
	inst, err := s.started()
	if err != nil {
		return nil, err
	}
	if !inst.gate.enter() {
		return nil, wsa.WSANOTINITIALISED
	}
	if inst.dead.Load() {
		inst.gate.leave()
		return nil, wsa.WSANOTINITIALISED
	}
	return inst, nil
}

// sock starts a call on socket h: it finds the socket and the provider to
// call, and registers the call on the socket's gate; the caller must call
// so.gate.leave() when done. The api holds no lock while the provider runs,
// so a Closesocket from another goroutine reaches the provider and ends a
// blocked call.
func (s *Session) sock(h wsa.Socket) (*instance, *socketObj, *loadedProvider, error) {
	inst, so, err := s.sockObj(h)
	if err != nil {
		return nil, nil, nil, err
	}
	if !so.gate.enter() {
		return nil, nil, nil, inst.closedErr() // closed meanwhile
	}
	if inst.dead.Load() {
		so.gate.leave()
		return nil, nil, nil, wsa.WSANOTINITIALISED
	}
	p := inst.dispatch(so)
	if p == nil {
		so.gate.leave()
		return nil, nil, nil, wsa.WSAENOTSOCK
	}
	return inst, so, p, nil
}

// sockObj finds socket h for a call that does not reach its provider
// (WSAGetOverlappedResult): the checks of sock, without registering on the
// gate, so nothing is to be left.
func (s *Session) sockObj(h wsa.Socket) (*instance, *socketObj, error) {
	inst, err := s.started()
	if err != nil {
		return nil, nil, err
	}
	so := inst.table.socket(h)
	if so == nil {
		return nil, nil, wsa.WSAENOTSOCK
	}
	return inst, so, nil
}

// closedErr is the error of a call on a socket whose gate is closed:
// WSANOTINITIALISED once WSACleanup has begun, else WSAENOTSOCK
// (closesocket).
func (inst *instance) closedErr() error {
	if inst.dead.Load() {
		return wsa.WSANOTINITIALISED
	}
	return wsa.WSAENOTSOCK
}
