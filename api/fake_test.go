package api_test

import (
	"encoding/binary"
	"net/netip"
	"sync"
	"testing"

	"github.com/ws2go/ws2/api"
	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/wsa"
)

// fakeProvider is a small in-memory transport provider: sockets are records
// in a map, a connect pairs two sockets of the same provider through
// channels, blocking calls park on channels and end with WSAEINTR when the
// socket is closed. It counts every WSP call per routine and socket.
type fakeProvider struct {
	name string

	// Knobs, set before the first WSPStartup.
	version   uint16 // WSPData.Version; 0 means 2.2
	startErr  error  // WSPStartup fails with it
	nilTable  bool   // WSPStartup returns no ProcTable
	socketErr error  // WSPSocket fails with it (nil error + INVALID_SOCKET if errBadSocket)
	bindErr   error  // WSPBind fails with it

	mu        sync.Mutex
	last      *fakeInst // the instance of the latest WSPStartup
	startups  int
	cleanups  int
	calls     map[string]int
	lastFlags uint32
	lingered  map[wsa.Socket]wsa.Linger // SO_LINGER set at close time
}

// fakeInst is the provider as started for one Session: a provider started by
// several Sessions keeps their sockets apart, as handles are per Session.
type fakeInst struct {
	p        *fakeProvider
	up       provider.UpcallTable
	mu       sync.Mutex
	socks    map[wsa.Socket]*fakeSock
	ports    map[int]*fakeSock // listeners
	nextPort int
}

// errBadSocket as socketErr makes WSPSocket fail without an error code.
var errBadSocket = badSocket{}

type badSocket struct{}

func (badSocket) Error() string { return "bad socket" }

type fakeSock struct {
	h        wsa.Socket
	af, typ  int32
	info     wsa.ProtocolInfo
	local    wsa.Sockaddr
	peer     *fakeSock
	peerAddr wsa.Sockaddr
	acceptq  chan *fakeSock
	rx       chan []byte
	pending  []byte
	eof      chan struct{} // closed when the peer closes
	eofOnce  sync.Once
	closed   chan struct{}
	nbio     bool
	linger   wsa.Linger
	opts     map[[2]int32][]byte
}

func newFakeProvider(name string) *fakeProvider {
	return &fakeProvider{name: name, calls: map[string]int{}, lingered: map[wsa.Socket]wsa.Linger{}}
}

func (p *fakeProvider) startup(version uint16, info *wsa.ProtocolInfo, up provider.UpcallTable) (provider.WSPData, provider.ProcTable, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.startErr != nil {
		return provider.WSPData{}, nil, p.startErr
	}
	d := provider.WSPData{Version: version, HighVersion: 0x0202, Description: p.name}
	if p.version != 0 {
		d.Version = p.version
	}
	p.startups++
	fi := &fakeInst{p: p, up: up, socks: map[wsa.Socket]*fakeSock{}, ports: map[int]*fakeSock{}, nextPort: 50000}
	p.last = fi
	if p.nilTable {
		return d, nil, nil
	}
	return d, fi, nil
}

func (p *fakeProvider) record(op string, s wsa.Socket) {
	p.mu.Lock()
	p.calls[op]++
	p.mu.Unlock()
}

func (p *fakeProvider) count(op string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls[op]
}

// upcalls returns the upcall table of the latest WSPStartup.
func (p *fakeProvider) upcalls() provider.UpcallTable {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.last.up
}

func (p *fakeInst) sock(s wsa.Socket) (*fakeSock, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if fs := p.socks[s]; fs != nil {
		return fs, nil
	}
	return nil, wsa.WSAENOTSOCK
}

func (p *fakeInst) newSock(af, typ int32, info *wsa.ProtocolInfo) (*fakeSock, error) {
	fs := &fakeSock{af: af, typ: typ, info: *info, rx: make(chan []byte, 64), eof: make(chan struct{}),
		closed: make(chan struct{}), opts: map[[2]int32][]byte{}}
	h, err := p.up.WPUCreateSocketHandle(info.CatalogEntryId, fs)
	if err != nil {
		return nil, err
	}
	fs.h = h
	p.mu.Lock()
	p.socks[h] = fs
	p.mu.Unlock()
	return fs, nil
}

func (p *fakeInst) WSPSocket(af, typ, protocol int32, info *wsa.ProtocolInfo, g uint32, flags uint32) (wsa.Socket, error) {
	p.p.record("WSPSocket", 0)
	p.p.mu.Lock()
	p.p.lastFlags = flags
	err := p.p.socketErr
	p.p.mu.Unlock()
	if err == errBadSocket {
		return wsa.INVALID_SOCKET, nil
	}
	if err != nil {
		return wsa.INVALID_SOCKET, err
	}
	if af == wsa.FROM_PROTOCOL_INFO {
		af = info.AddressFamily
	}
	if typ == wsa.FROM_PROTOCOL_INFO {
		typ = info.SocketType
	}
	fs, err := p.newSock(af, typ, info)
	if err != nil {
		return wsa.INVALID_SOCKET, err
	}
	return fs.h, nil
}

func (p *fakeInst) WSPBind(s wsa.Socket, name wsa.Sockaddr) error {
	p.p.record("WSPBind", s)
	fs, err := p.sock(s)
	if err != nil {
		return err
	}
	p.p.mu.Lock()
	bindErr := p.p.bindErr
	p.p.mu.Unlock()
	if bindErr != nil {
		return bindErr
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if name.Family() != fs.af {
		return wsa.WSAEAFNOSUPPORT
	}
	ap := name.AddrPort()
	port := int(ap.Port())
	if port == 0 {
		port = p.nextPort
		p.nextPort++
	}
	fs.local = wsa.SockaddrFromAddrPort(netipAddrPort(ap.Addr(), port))
	return nil
}

func (p *fakeInst) WSPListen(s wsa.Socket, backlog int32) error {
	p.p.record("WSPListen", s)
	fs, err := p.sock(s)
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if fs.local == nil {
		return wsa.WSAEINVAL
	}
	if fs.acceptq == nil {
		fs.acceptq = make(chan *fakeSock, 16)
		p.ports[int(fs.local.AddrPort().Port())] = fs
	}
	return nil
}

func (p *fakeInst) WSPConnect(s wsa.Socket, name wsa.Sockaddr, callerData, calleeData []byte, sqos, gqos *wsa.QOS) error {
	p.p.record("WSPConnect", s)
	fs, err := p.sock(s)
	if err != nil {
		return err
	}
	p.mu.Lock()
	l := p.ports[int(name.AddrPort().Port())]
	if fs.local == nil {
		fs.local = wsa.SockaddrFromAddrPort(netipAddrPort(name.AddrPort().Addr(), p.nextPort))
		p.nextPort++
	}
	p.mu.Unlock()
	if l == nil {
		return wsa.WSAECONNREFUSED
	}
	srv, err := p.newSock(l.af, l.typ, &l.info)
	if err != nil {
		return err
	}
	srv.local, srv.peer, srv.peerAddr = l.local, fs, fs.local
	fs.peer, fs.peerAddr = srv, name
	select {
	case l.acceptq <- srv:
		return nil
	case <-fs.closed:
		return wsa.WSAEINTR
	}
}

func (p *fakeInst) WSPAccept(s wsa.Socket, cond wsa.ConditionProc, callbackData uintptr) (wsa.Socket, wsa.Sockaddr, error) {
	p.p.record("WSPAccept", s)
	fs, err := p.sock(s)
	if err != nil {
		return wsa.INVALID_SOCKET, nil, err
	}
	if fs.acceptq == nil {
		return wsa.INVALID_SOCKET, nil, wsa.WSAEINVAL
	}
	select {
	case ns := <-fs.acceptq:
		if cond != nil {
			var g uint32
			switch cond(ns.peerAddr, nil, nil, nil, ns.local, nil, &g, callbackData) {
			case wsa.CF_REJECT:
				_ = p.WSPCloseSocket(ns.h)
				return wsa.INVALID_SOCKET, nil, wsa.WSAECONNREFUSED
			case wsa.CF_DEFER:
				fs.acceptq <- ns
				return wsa.INVALID_SOCKET, nil, wsa.WSATRY_AGAIN
			}
		}
		return ns.h, ns.peerAddr, nil
	case <-fs.closed:
		return wsa.INVALID_SOCKET, nil, wsa.WSAEINTR
	}
}

func (p *fakeInst) WSPCloseSocket(s wsa.Socket) error {
	p.p.record("WSPCloseSocket", s)
	p.mu.Lock()
	fs := p.socks[s]
	if fs == nil {
		p.mu.Unlock()
		return wsa.WSAENOTSOCK
	}
	delete(p.socks, s)
	if fs.acceptq != nil && fs.local != nil {
		delete(p.ports, int(fs.local.AddrPort().Port()))
	}
	linger := fs.linger
	up := p.up
	p.mu.Unlock()
	p.p.mu.Lock()
	p.p.lingered[s] = linger
	p.p.mu.Unlock()
	close(fs.closed)
	if fs.peer != nil {
		fs.peer.eofOnce.Do(func() { close(fs.peer.eof) })
	}
	return up.WPUCloseSocketHandle(s)
}

func (p *fakeInst) send(s wsa.Socket, bufs [][]byte, ov *wsa.Overlapped, cr wsa.CompletionRoutine, tid *provider.ThreadID) (uint32, error) {
	fs, err := p.sock(s)
	if err != nil {
		return 0, err
	}
	if fs.peer == nil {
		return 0, wsa.WSAENOTCONN
	}
	var data []byte
	for _, b := range bufs {
		data = append(data, b...)
	}
	select {
	case fs.peer.rx <- data:
	case <-fs.closed:
		return 0, wsa.WSAEINTR
	}
	n := uint32(len(data))
	if ov != nil {
		// Completed at once; the completion is still delivered.
		up := p.up
		ov.OffsetHigh, ov.Offset = 0, 0
		if err := up.WPUCompleteOverlappedRequest(s, ov, 0, n); err != nil {
			return 0, err
		}
		if cr != nil {
			if err := up.WPUQueueApc(tid, func(uintptr) { cr(0, n, ov, 0) }, 0); err != nil {
				return 0, err
			}
		}
	}
	return n, nil
}

func (p *fakeInst) WSPSend(s wsa.Socket, bufs [][]byte, flags uint32, ov *wsa.Overlapped, cr wsa.CompletionRoutine, tid *provider.ThreadID) (uint32, error) {
	p.p.record("WSPSend", s)
	return p.send(s, bufs, ov, cr, tid)
}

func (p *fakeInst) WSPSendTo(s wsa.Socket, bufs [][]byte, flags uint32, to wsa.Sockaddr, ov *wsa.Overlapped, cr wsa.CompletionRoutine, tid *provider.ThreadID) (uint32, error) {
	p.p.record("WSPSendTo", s)
	return p.send(s, bufs, ov, cr, tid)
}

func (p *fakeInst) recv(s wsa.Socket, bufs [][]byte, from *wsa.Sockaddr) (uint32, error) {
	fs, err := p.sock(s)
	if err != nil {
		return 0, err
	}
	if len(fs.pending) == 0 {
		select {
		case fs.pending = <-fs.rx:
		default:
			if fs.nbio {
				select {
				case <-fs.eof:
					return 0, nil
				default:
					return 0, wsa.WSAEWOULDBLOCK
				}
			}
			select {
			case fs.pending = <-fs.rx:
			case <-fs.eof:
				select {
				case fs.pending = <-fs.rx:
				default:
					return 0, nil
				}
			case <-fs.closed:
				return 0, wsa.WSAEINTR
			}
		}
	}
	var n uint32
	for _, b := range bufs {
		c := copy(b, fs.pending)
		fs.pending = fs.pending[c:]
		n += uint32(c)
	}
	if from != nil {
		*from = fs.peerAddr
	}
	return n, nil
}

func (p *fakeInst) WSPRecv(s wsa.Socket, bufs [][]byte, flags *uint32, ov *wsa.Overlapped, cr wsa.CompletionRoutine, tid *provider.ThreadID) (uint32, error) {
	p.p.record("WSPRecv", s)
	return p.recv(s, bufs, nil)
}

func (p *fakeInst) WSPRecvFrom(s wsa.Socket, bufs [][]byte, flags *uint32, from *wsa.Sockaddr, ov *wsa.Overlapped, cr wsa.CompletionRoutine, tid *provider.ThreadID) (uint32, error) {
	p.p.record("WSPRecvFrom", s)
	return p.recv(s, bufs, from)
}

func (p *fakeInst) WSPGetSockName(s wsa.Socket) (wsa.Sockaddr, error) {
	p.p.record("WSPGetSockName", s)
	fs, err := p.sock(s)
	if err != nil {
		return nil, err
	}
	if fs.local == nil {
		return nil, wsa.WSAEINVAL
	}
	return fs.local, nil
}

func (p *fakeInst) WSPGetPeerName(s wsa.Socket) (wsa.Sockaddr, error) {
	p.p.record("WSPGetPeerName", s)
	fs, err := p.sock(s)
	if err != nil {
		return nil, err
	}
	if fs.peer == nil {
		return nil, wsa.WSAENOTCONN
	}
	return fs.peerAddr, nil
}

func (p *fakeInst) WSPGetSockOpt(s wsa.Socket, level, optname int32, optval []byte) (int32, error) {
	p.p.record("WSPGetSockOpt", s)
	fs, err := p.sock(s)
	if err != nil {
		return 0, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case level == wsa.SOL_SOCKET && optname == wsa.SO_PROTOCOL_INFOW:
		if err := fs.info.Marshal(optval); err != nil {
			return 0, err
		}
		return wsa.SizeofProtocolInfo, nil
	case level == wsa.SOL_SOCKET && optname == wsa.SO_LINGER:
		if err := fs.linger.Marshal(optval); err != nil {
			return 0, err
		}
		return wsa.SizeofLinger, nil
	case level == wsa.SOL_SOCKET && optname == wsa.SO_TYPE:
		return wsa.PutInt32(optval, fs.typ)
	}
	v, ok := fs.opts[[2]int32{level, optname}]
	if !ok {
		return 0, wsa.WSAENOPROTOOPT
	}
	if len(optval) < len(v) {
		return 0, wsa.WSAEFAULT
	}
	return int32(copy(optval, v)), nil
}

func (p *fakeInst) WSPSetSockOpt(s wsa.Socket, level, optname int32, optval []byte) error {
	p.p.record("WSPSetSockOpt", s)
	fs, err := p.sock(s)
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if level == wsa.SOL_SOCKET && optname == wsa.SO_LINGER {
		l, err := wsa.UnmarshalLinger(optval)
		if err != nil {
			return err
		}
		fs.linger = l
		return nil
	}
	fs.opts[[2]int32{level, optname}] = append([]byte(nil), optval...)
	return nil
}

// ioctlEcho is a WSAIoctl code the fake answers by copying in to out.
const ioctlEcho = 0x98001234

func (p *fakeInst) WSPIoctl(s wsa.Socket, code uint32, in, out []byte, ov *wsa.Overlapped, cr wsa.CompletionRoutine, tid *provider.ThreadID) (uint32, error) {
	p.p.record("WSPIoctl", s)
	fs, err := p.sock(s)
	if err != nil {
		return 0, err
	}
	switch code {
	case wsa.FIONBIO:
		if len(in) < 4 {
			return 0, wsa.WSAEFAULT
		}
		fs.nbio = binary.LittleEndian.Uint32(in) != 0
		return 0, nil
	case wsa.FIONREAD:
		n := len(fs.pending)
		if len(out) < 4 {
			return 0, wsa.WSAEFAULT
		}
		binary.LittleEndian.PutUint32(out, uint32(n))
		return 4, nil
	case wsa.SIOCATMARK:
		if len(out) < 4 {
			return 0, wsa.WSAEFAULT
		}
		binary.LittleEndian.PutUint32(out, 1)
		return 4, nil
	case ioctlEcho:
		if len(out) < len(in) {
			return uint32(len(in)), wsa.WSAEFAULT
		}
		return uint32(copy(out, in)), nil
	}
	return 0, wsa.WSAEOPNOTSUPP
}

func (p *fakeInst) WSPShutdown(s wsa.Socket, how int32) error {
	p.p.record("WSPShutdown", s)
	_, err := p.sock(s)
	return err
}

func (p *fakeInst) WSPSendDisconnect(s wsa.Socket, data []byte) error {
	p.p.record("WSPSendDisconnect", s)
	_, err := p.sock(s)
	return err
}

func (p *fakeInst) WSPRecvDisconnect(s wsa.Socket, data []byte) error {
	p.p.record("WSPRecvDisconnect", s)
	_, err := p.sock(s)
	return err
}

func (p *fakeInst) WSPStringToAddress(addr string, af int32, info *wsa.ProtocolInfo) (wsa.Sockaddr, error) {
	p.p.record("WSPStringToAddress", 0)
	return wsa.ParseSockaddrString(addr, af)
}

func (p *fakeInst) WSPAddressToString(addr wsa.Sockaddr, info *wsa.ProtocolInfo) (string, error) {
	p.p.record("WSPAddressToString", 0)
	return wsa.FormatSockaddr(addr), nil
}

func (p *fakeInst) WSPCleanup() error {
	p.p.mu.Lock()
	defer p.p.mu.Unlock()
	p.p.cleanups++
	return nil
}

// The routines of the next issue and the obsolete ones.

func (p *fakeInst) WSPAsyncSelect(wsa.Socket, wsa.Handle, uint32, int32) error {
	return wsa.WSAEOPNOTSUPP
}
func (p *fakeInst) WSPCancelBlockingCall() error { return wsa.WSAEOPNOTSUPP }
func (p *fakeInst) WSPDuplicateSocket(wsa.Socket, uint32) (wsa.ProtocolInfo, error) {
	return wsa.ProtocolInfo{}, wsa.WSAEOPNOTSUPP
}
func (p *fakeInst) WSPEnumNetworkEvents(wsa.Socket, wsa.Handle) (wsa.NetworkEvents, error) {
	return wsa.NetworkEvents{}, wsa.WSAEOPNOTSUPP
}
func (p *fakeInst) WSPEventSelect(wsa.Socket, wsa.Handle, int32) error { return wsa.WSAEOPNOTSUPP }
func (p *fakeInst) WSPGetOverlappedResult(wsa.Socket, *wsa.Overlapped, bool) (uint32, uint32, error) {
	return 0, 0, wsa.WSAEOPNOTSUPP
}
func (p *fakeInst) WSPGetQOSByName(wsa.Socket, []byte) (*wsa.QOS, error) {
	return nil, wsa.WSAEOPNOTSUPP
}
func (p *fakeInst) WSPJoinLeaf(wsa.Socket, wsa.Sockaddr, []byte, []byte, *wsa.QOS, *wsa.QOS, uint32) (wsa.Socket, error) {
	return wsa.INVALID_SOCKET, wsa.WSAEOPNOTSUPP
}
func (p *fakeInst) WSPSelect(*wsa.FdSet, *wsa.FdSet, *wsa.FdSet, *wsa.Timeval) (int32, error) {
	return 0, wsa.WSAEOPNOTSUPP
}

var _ provider.ProcTable = (*fakeInst)(nil)

// Provider ids and entries of the test catalogs.
var (
	guidA   = wsa.GUID{Data1: 0xa}
	guidB   = wsa.GUID{Data1: 0xb}
	guidLSP = wsa.GUID{Data1: 0x15}
)

func entry(name string, af, typ, proto int32, pfl uint32) wsa.ProtocolInfo {
	return wsa.ProtocolInfo{
		ServiceFlags1: wsa.XP1_IFS_HANDLES, ProviderFlags: pfl,
		AddressFamily: af, SocketType: typ, Protocol: proto,
		MaxSockAddr: wsa.SizeofSockaddrInet6, MinSockAddr: wsa.SizeofSockaddrInet4,
		ProtocolChain: wsa.ProtocolChain{ChainLen: wsa.BASE_PROTOCOL}, ProtocolName: name,
	}
}

// testEnv is a private registry and catalog with fake provider A (IPv4: TCP,
// UDP, and a hidden RAW entry) at path "a" and fake provider B (IPv6: TCP,
// UDP) at path "b".
type testEnv struct {
	reg  *provider.Registry
	cat  *provider.Catalog
	a, b *fakeProvider
}

func newEnv(t testing.TB) *testEnv {
	t.Helper()
	env := &testEnv{reg: provider.NewRegistry(), a: newFakeProvider("A"), b: newFakeProvider("B")}
	env.cat = provider.NewCatalog(env.reg)
	must(t, env.reg.Register("a", env.a.startup))
	must(t, env.reg.Register("b", env.b.startup))
	raw := entry("RAW/IP", wsa.AF_INET, wsa.SOCK_RAW, 0, wsa.PFL_MATCHES_PROTOCOL_ZERO|wsa.PFL_HIDDEN)
	raw.ProtocolMaxOffset = 255
	must(t, env.cat.WSCInstallProvider(guidA, "a", []wsa.ProtocolInfo{
		entry("TCP/IP", wsa.AF_INET, wsa.SOCK_STREAM, wsa.IPPROTO_TCP, wsa.PFL_MATCHES_PROTOCOL_ZERO),
		entry("UDP/IP", wsa.AF_INET, wsa.SOCK_DGRAM, wsa.IPPROTO_UDP, wsa.PFL_MATCHES_PROTOCOL_ZERO),
		raw,
	}))
	must(t, env.cat.WSCInstallProvider(guidB, "b", []wsa.ProtocolInfo{
		entry("TCP/IPv6", wsa.AF_INET6, wsa.SOCK_STREAM, wsa.IPPROTO_TCP, wsa.PFL_MATCHES_PROTOCOL_ZERO),
		entry("UDP/IPv6", wsa.AF_INET6, wsa.SOCK_DGRAM, wsa.IPPROTO_UDP, wsa.PFL_MATCHES_PROTOCOL_ZERO),
	}))
	return env
}

// start starts a Session on the environment's catalog and cleans it up at
// the end of the test.
func (env *testEnv) start(t testing.TB) *api.Session {
	t.Helper()
	s, err := api.WSAStartup(wsa.WINSOCK_VERSION, env.cat)
	if err != nil {
		t.Fatalf("WSAStartup: %v", err)
	}
	t.Cleanup(func() { _ = s.WSACleanup() })
	return s
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func netipAddrPort(a netip.Addr, port int) netip.AddrPort { return netip.AddrPortFrom(a, uint16(port)) }
