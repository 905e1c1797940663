package netstack

import (
	"sync"
	"sync/atomic"
	"time"

	gvstack "gvisor.dev/gvisor/pkg/tcpip/stack"

	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/provider/internal/wsp"
	"github.com/ws2go/ws2/stack"
	"github.com/ws2go/ws2/wsa"
)

// DefaultPath is the registry name under which Install registers the
// provider: the stand-in for MSAFD's %SystemRoot%\system32\mswsock.dll in
// the provider path of the catalog entries.
const DefaultPath = "ws2/netstack"

// DefaultConnectTimeout is how long a TCP connect waits for the handshake
// before failing WSAETIMEDOUT: Windows' TcpMaxConnectRetransmissions (2)
// with its 3 s initial RTO give about 21 s.
const DefaultConnectTimeout = 21 * time.Second

// Description is the szDescription WSPStartup reports.
const Description = "ws2 netstack base provider (MSAFD Tcpip analog)"

// Provider is the base transport provider on one stack instance: the
// analog of MSAFD (mswsock.dll over afd.sys and tcpip.sys), with gVisor's
// netstack below it. Its WSPStartup is Startup; everything else is reached
// through the procedure table Startup returns.
//
// A Provider is safe for concurrent use. It does not own the stack: close
// the sockets (WSPCloseSocket, or WSPCleanup) before closing the stack.
type Provider struct {
	gs             *gvstack.Stack
	binds          *bindTable
	connectTimeout atomic.Int64 // time.Duration
	raw            rawPolicy    // who may open SOCK_RAW sockets (raw_catalog.go)

	mu       sync.Mutex
	sessions []*session // one per upcall table, with its WSPStartup count
}

// New returns the provider for st. Register its Startup under a path of a
// catalog's registry (Install does that and installs the catalog entries).
func New(st *stack.Stack) *Provider { return newProvider(st.GVisor()) }

func newProvider(gs *gvstack.Stack) *Provider {
	p := &Provider{gs: gs, binds: newBindTable()}
	p.connectTimeout.Store(int64(DefaultConnectTimeout))
	return p
}

// SetConnectTimeout sets how long later TCP connects wait for the handshake
// before failing WSAETIMEDOUT (DefaultConnectTimeout; d <= 0 restores it).
// gVisor alone would retransmit the SYN for about 63 s; Windows gives up
// after about 21 s.
func (p *Provider) SetConnectTimeout(d time.Duration) {
	if d <= 0 {
		d = DefaultConnectTimeout
	}
	p.connectTimeout.Store(int64(d))
}

// Startup is the provider's WSPStartup (a provider.StartupFunc). The
// provider supports Winsock 2.2 only: a request below 2.2 fails
// WSAVERNOTSUPPORTED; for 2.2 or above the negotiated version is 2.2.
//
// The api calls it once per ProviderId and Session (the IPv4 and IPv6
// entries have different provider ids, so twice per Session), each time
// with the Session's upcall table. Calls with the same upcall table share
// one procedure table and a WSPStartup count; WSPCleanup decrements it, and
// the last WSPCleanup closes the sockets still open through that table. A
// table keeps using the most recent upcall table it was started with;
// sockets are made with and found through it.
func (p *Provider) Startup(version uint16, info *wsa.ProtocolInfo, up provider.UpcallTable) (provider.WSPData, provider.ProcTable, error) {
	if err := wsp.CheckVersion(version); err != nil {
		return provider.WSPData{}, nil, err
	}
	if up == nil {
		return provider.WSPData{}, nil, wsa.WSAEFAULT
	}
	_ = info // the same provider serves every entry it installed
	p.mu.Lock()
	defer p.mu.Unlock()
	var ss *session
	for _, x := range p.sessions {
		if wsp.SameUpcalls(x.up.Load().up, up) {
			ss = x
			break
		}
	}
	if ss == nil {
		ss = &session{p: p}
		ss.extFuncs = ss.extensions
		p.sessions = append(p.sessions, ss)
	}
	ss.up.Store(&upcallsRef{up})
	ss.refs++
	return provider.WSPData{Version: wsa.WINSOCK_VERSION, HighVersion: wsa.WINSOCK_VERSION, Description: Description}, ss, nil
}

// Protocols returns the catalog entries of the provider in catalog order,
// modelled on those MSAFD installs (spec §4.4): TCP and UDP over IPv4 under
// wsa.MSAFD_TCPIP_PROVIDER_ID, then over IPv6 under
// wsa.MSAFD_TCPIP6_PROVIDER_ID, then RAW/IP and RAW/IPv6 (raw_catalog.go)
// under the same two ids. CatalogEntryId is left 0 (the catalog assigns
// it). The caller owns the slice.
func Protocols() []wsa.ProtocolInfo {
	return append([]wsa.ProtocolInfo{
		wsp.TCPIPEntry(wsa.MSAFD_TCPIP_PROVIDER_ID, wsa.AF_INET, wsa.SOCK_STREAM, wsa.IPPROTO_TCP, "MSAFD Tcpip [TCP/IP]"),
		wsp.TCPIPEntry(wsa.MSAFD_TCPIP_PROVIDER_ID, wsa.AF_INET, wsa.SOCK_DGRAM, wsa.IPPROTO_UDP, "MSAFD Tcpip [UDP/IP]"),
		wsp.TCPIPEntry(wsa.MSAFD_TCPIP6_PROVIDER_ID, wsa.AF_INET6, wsa.SOCK_STREAM, wsa.IPPROTO_TCP, "MSAFD Tcpip [TCP/IPv6]"),
		wsp.TCPIPEntry(wsa.MSAFD_TCPIP6_PROVIDER_ID, wsa.AF_INET6, wsa.SOCK_DGRAM, wsa.IPPROTO_UDP, "MSAFD Tcpip [UDP/IPv6]"),
	}, rawProtocols()...)
}

// Install registers New(st).Startup under path in cat's registry and
// installs Protocols (see InstallProtocols): on a fresh catalog 1001
// TCP/IP, 1002 UDP/IP, 1003 TCP/IPv6, 1004 UDP/IPv6, 1005 RAW/IP, 1006
// RAW/IPv6. On failure nothing stays registered or installed. Use
// New(st).Install to keep the *Provider.
func Install(cat *provider.Catalog, path string, st *stack.Stack) error {
	if cat == nil || st == nil {
		return wsa.WSAEINVAL
	}
	return New(st).Install(cat, path)
}

// session is the procedure table given to the callers of WSPStartup with
// one upcall table (one api Session): it implements provider.ProcTable.
type session struct {
	p *Provider
	// up is the upcall table, stored (under p.mu) by every WSPStartup
	// before the table is handed out and cleared by the last WSPCleanup:
	// nil means dead. Every call reads it without a lock.
	up atomic.Pointer[upcallsRef]

	// refs counts WSPStartup calls not yet matched by WSPCleanup; guarded by
	// p.mu. At 0 the table is dead (and up is nil).
	refs int

	sockets wsp.SocketSet[*socket]

	// extFuncs is ss.extensions as a func value, made once rather than
	// by every WSPIoctl (wsp.IoctlSocket.Extensions).
	extFuncs func() map[wsa.GUID]uintptr

	wsp.Obsolete // obsolete routines, address strings
}

var _ provider.ProcTable = (*session)(nil)

// upcallsRef holds an upcall table (an interface) for session.up.
type upcallsRef struct{ up provider.UpcallTable }

// upcalls returns the upcall table, or WSANOTINITIALISED after the last
// WSPCleanup. It takes no lock.
func (ss *session) upcalls() (provider.UpcallTable, error) {
	r := ss.up.Load()
	if r == nil {
		return nil, wsa.WSANOTINITIALISED
	}
	return r.up, nil
}

// lookup finds the socket behind handle h through
// WPUQuerySocketHandleContext: WSAENOTSOCK for anything not an open socket
// of this provider. The socket has its gVisor endpoint (ensureEndpoint).
func (ss *session) lookup(h wsa.Socket) (*socket, error) {
	s, _, err := ss.lookupUp(h)
	return s, err
}

// lookupUp is lookup that also returns the upcall table the handle was
// resolved through, for the calls that need it (overlapped operations,
// extension functions), so that they read it once.
func (ss *session) lookupUp(h wsa.Socket) (*socket, provider.UpcallTable, error) {
	s, up, err := ss.lookupLazyUp(h)
	if err != nil {
		return nil, nil, err
	}
	if err := s.ensureEndpoint(); err != nil {
		return nil, nil, err
	}
	return s, up, nil
}

// lookupLazy is lookup without creating the socket's endpoint: the socket
// may have none (noEP). Only procedures that need no endpoint use it:
// closesocket, AcceptEx for its accept socket, and those that read the
// socket's conditions alone (select, WSAPoll, WSAEventSelect,
// WSAAsyncSelect, WSAEnumNetworkEvents), for which a socket without one
// is a fresh one (see conditions).
func (ss *session) lookupLazy(h wsa.Socket) (*socket, error) {
	s, _, err := ss.lookupLazyUp(h)
	return s, err
}

// lookupLazyUp is lookupLazy that also returns the upcall table (see
// lookupUp).
func (ss *session) lookupLazyUp(h wsa.Socket) (*socket, provider.UpcallTable, error) {
	up, err := ss.upcalls()
	if err != nil {
		return nil, nil, err
	}
	ctx, err := up.WPUQuerySocketHandleContext(h)
	if err != nil {
		return nil, nil, wsa.WSAENOTSOCK
	}
	s, ok := ctx.(*socket)
	if !ok || s == nil || s.ss != ss || s.rd.IsClosed() {
		return nil, nil, wsa.WSAENOTSOCK
	}
	return s, up, nil
}

// WSPCleanup is WSPCleanup: it undoes one WSPStartup. The last one aborts
// every pending overlapped operation (WSA_OPERATION_ABORTED), then closes
// (abortively) every socket still open through this table; later calls fail
// WSANOTINITIALISED. Aborting everything first keeps the reset of one
// socket's close from completing another's pending receive with
// WSAECONNRESET before it is aborted.
func (ss *session) WSPCleanup() error {
	ss.p.mu.Lock()
	if ss.refs <= 0 {
		ss.p.mu.Unlock()
		return wsa.WSANOTINITIALISED
	}
	ss.refs--
	last := ss.refs == 0
	if last {
		for i, x := range ss.p.sessions {
			if x == ss {
				ss.p.sessions = append(ss.p.sessions[:i], ss.p.sessions[i+1:]...)
				break
			}
		}
	}
	up := ss.up.Load().up
	if last {
		ss.up.Store(nil)
	}
	ss.p.mu.Unlock()
	if !last {
		return nil
	}
	socks := ss.sockets.Take()
	for _, s := range socks {
		s.ovq.Abort()
	}
	for _, s := range socks {
		s.abortClose()
		s.ovq.Abort() // anything that raced with the first pass
		_ = up.WPUCloseSocketHandle(s.handle)
	}
	return nil
}

// Obsolete and not-yet-implemented routines: the rest are wsp.Obsolete.

// WSPDuplicateSocket is WSADuplicateSocket. ws2 has no second process to
// hand a socket to; it fails WSAEOPNOTSUPP (after checking the handle).
func (ss *session) WSPDuplicateSocket(h wsa.Socket, processID uint32) (wsa.ProtocolInfo, error) {
	if _, err := ss.lookup(h); err != nil {
		return wsa.ProtocolInfo{}, err
	}
	return wsa.ProtocolInfo{}, wsa.WSAEOPNOTSUPP
}
