package host

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/provider/internal/wsp"
	"github.com/ws2go/ws2/wsa"
)

// DefaultPath is the registry name under which Install registers the
// provider: the path of its catalog entries.
const DefaultPath = "ws2/host"

// DefaultConnectTimeout is how long a TCP connect waits for the handshake
// before failing WSAETIMEDOUT: Windows' TcpMaxConnectRetransmissions (2)
// with its 3 s initial RTO give about 21 s (Linux alone would retry the SYN
// for about 127 s).
const DefaultConnectTimeout = 21 * time.Second

// Description is the szDescription WSPStartup reports.
const Description = "ws2 host base provider (kernel sockets)"

// The provider's GUIDs: its own, not MSAFD's, so that it can sit in one
// catalog with the netstack provider (one provider DLL per ProviderId).
var (
	// HostTCPIPProviderID is {6D3C56A2-2C1E-4E55-9A57-3F1C0B7E9A41}, the
	// provider id of the IPv4 entries.
	HostTCPIPProviderID = wsa.MustParseGUID("{6D3C56A2-2C1E-4E55-9A57-3F1C0B7E9A41}")
	// HostTCPIP6ProviderID is {B1F0D3E4-7A65-4C28-8E1D-52A9C6F4B803}, the
	// provider id of the IPv6 entries.
	HostTCPIP6ProviderID = wsa.MustParseGUID("{B1F0D3E4-7A65-4C28-8E1D-52A9C6F4B803}")
)

// Protocols returns the catalog entries of the provider, with MSAFD's
// service flags, sockaddr sizes and message sizes (spec §4.4) but the
// provider's own GUIDs and names: "ws2 Host [TCP/IP]", "ws2 Host
// [UDP/IP]" under HostTCPIPProviderID, then "ws2 Host [TCP/IPv6]", "ws2
// Host [UDP/IPv6]" under HostTCPIP6ProviderID. CatalogEntryId is left 0
// (the catalog assigns it). The caller owns the slice.
func Protocols() []wsa.ProtocolInfo {
	return []wsa.ProtocolInfo{
		wsp.TCPIPEntry(HostTCPIPProviderID, wsa.AF_INET, wsa.SOCK_STREAM, wsa.IPPROTO_TCP, "ws2 Host [TCP/IP]"),
		wsp.TCPIPEntry(HostTCPIPProviderID, wsa.AF_INET, wsa.SOCK_DGRAM, wsa.IPPROTO_UDP, "ws2 Host [UDP/IP]"),
		wsp.TCPIPEntry(HostTCPIP6ProviderID, wsa.AF_INET6, wsa.SOCK_STREAM, wsa.IPPROTO_TCP, "ws2 Host [TCP/IPv6]"),
		wsp.TCPIPEntry(HostTCPIP6ProviderID, wsa.AF_INET6, wsa.SOCK_DGRAM, wsa.IPPROTO_UDP, "ws2 Host [UDP/IPv6]"),
	}
}

// Install registers New().Startup under path in cat's registry and installs
// Protocols: the IPv4 entries under HostTCPIPProviderID, then the IPv6
// entries under HostTCPIP6ProviderID, at the end of the catalog (after
// netstack's, if installed before). On failure nothing stays registered or
// installed.
func Install(cat *provider.Catalog, path string) error {
	if cat == nil {
		return wsa.WSAEINVAL
	}
	p := New()
	if err := cat.Registry().Register(path, p.Startup); err != nil {
		return err
	}
	var v4, v6 []wsa.ProtocolInfo
	for _, e := range Protocols() {
		if e.AddressFamily == wsa.AF_INET {
			v4 = append(v4, e)
		} else {
			v6 = append(v6, e)
		}
	}
	if err := cat.WSCInstallProvider(HostTCPIPProviderID, path, v4); err != nil {
		cat.Registry().Unregister(path)
		return err
	}
	if err := cat.WSCInstallProvider(HostTCPIP6ProviderID, path, v6); err != nil {
		_ = cat.WSCDeinstallProvider(HostTCPIPProviderID)
		cat.Registry().Unregister(path)
		return err
	}
	return nil
}

// Provider is the base transport provider over the host kernel's sockets.
// Its WSPStartup is Startup; everything else is reached through the
// procedure table Startup returns.
//
// A Provider is safe for concurrent use. Its epoll goroutine runs from the
// first WSPStartup to the last WSPCleanup.
type Provider struct {
	binds          *wsp.BindTable
	connectTimeout atomic.Int64 // time.Duration

	mu       sync.Mutex
	sessions []*session // one per upcall table, with its WSPStartup count
	poll     *poller    // while a session lives
}

// New returns a provider. Register its Startup under a path of a catalog's
// registry (Install does that and installs the catalog entries).
func New() *Provider {
	p := &Provider{binds: wsp.NewBindTable()}
	p.connectTimeout.Store(int64(DefaultConnectTimeout))
	return p
}

// SetConnectTimeout sets how long later TCP connects wait for the
// handshake before failing WSAETIMEDOUT (DefaultConnectTimeout; d <= 0
// restores it).
func (p *Provider) SetConnectTimeout(d time.Duration) {
	if d <= 0 {
		d = DefaultConnectTimeout
	}
	p.connectTimeout.Store(int64(d))
}

// Startup is the provider's WSPStartup (a provider.StartupFunc). The
// provider supports Winsock 2.2 only: a request below 2.2 fails
// WSAVERNOTSUPPORTED; for 2.2 or above the negotiated version is 2.2. A
// kernel that cannot make the epoll instance fails WSASYSNOTREADY.
//
// The api calls it once per ProviderId and Session (twice per Session),
// each time with the Session's upcall table. Calls with the same upcall
// table share one procedure table and a WSPStartup count; WSPCleanup
// decrements it, and the last WSPCleanup closes the sockets still open
// through that table. A table keeps using the most recent upcall table it
// was started with.
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
	if p.poll == nil {
		pl, err := newPoller()
		if err != nil {
			return provider.WSPData{}, nil, wsa.WSASYSNOTREADY
		}
		p.poll = pl
	}
	var ss *session
	for _, x := range p.sessions {
		if wsp.SameUpcalls(x.up, up) {
			ss = x
			break
		}
	}
	if ss == nil {
		ss = &session{p: p, poll: p.poll}
		p.sessions = append(p.sessions, ss)
	}
	ss.up = up
	ss.refs++
	return provider.WSPData{Version: wsa.WINSOCK_VERSION, HighVersion: wsa.WINSOCK_VERSION, Description: Description}, ss, nil
}

// session is the procedure table given to the callers of WSPStartup with
// one upcall table (one api Session): it implements provider.ProcTable.
type session struct {
	p    *Provider
	poll *poller
	up   provider.UpcallTable // guarded by p.mu

	// refs counts WSPStartup calls not yet matched by WSPCleanup; guarded
	// by p.mu. At 0 the table is dead.
	refs int

	sockets wsp.SocketSet[*socket]

	wsp.Obsolete // obsolete routines, address strings
}

var (
	_ provider.ProcTable = (*session)(nil)
	_ provider.Poller    = (*session)(nil)
	_ provider.Canceler  = (*session)(nil)
)

// upcalls returns the upcall table, or WSANOTINITIALISED after the last
// WSPCleanup.
func (ss *session) upcalls() (provider.UpcallTable, error) {
	ss.p.mu.Lock()
	defer ss.p.mu.Unlock()
	if ss.refs <= 0 {
		return nil, wsa.WSANOTINITIALISED
	}
	return ss.up, nil
}

// lookup finds the socket behind handle h through
// WPUQuerySocketHandleContext: WSAENOTSOCK for anything not an open socket
// of this provider.
func (ss *session) lookup(h wsa.Socket) (*socket, error) {
	up, err := ss.upcalls()
	if err != nil {
		return nil, err
	}
	ctx, err := up.WPUQuerySocketHandleContext(h)
	if err != nil {
		return nil, wsa.WSAENOTSOCK
	}
	s, ok := ctx.(*socket)
	if !ok || s == nil || s.ss != ss || s.rd.IsClosed() {
		return nil, wsa.WSAENOTSOCK
	}
	return s, nil
}

// WSPCleanup undoes one WSPStartup. The last one aborts every pending
// overlapped operation (WSA_OPERATION_ABORTED), then closes (abortively)
// every socket still open through this table; later calls fail
// WSANOTINITIALISED. When no table is left, the epoll goroutine stops.
func (ss *session) WSPCleanup() error {
	p := ss.p
	p.mu.Lock()
	if ss.refs <= 0 {
		p.mu.Unlock()
		return wsa.WSANOTINITIALISED
	}
	ss.refs--
	last := ss.refs == 0
	if last {
		for i, x := range p.sessions {
			if x == ss {
				p.sessions = append(p.sessions[:i], p.sessions[i+1:]...)
				break
			}
		}
	}
	up := ss.up
	p.mu.Unlock()
	if !last {
		return nil
	}
	socks := ss.sockets.Take()
	// Abort every pending overlapped operation first, so that the reset
	// of one socket's close cannot complete another's pending receive
	// with WSAECONNRESET before it is aborted.
	for _, s := range socks {
		s.ovq.Abort()
	}
	for _, s := range socks {
		s.abortClose()
		s.ovq.Abort() // anything that raced with the first pass
		_ = up.WPUCloseSocketHandle(s.handle)
	}
	p.mu.Lock()
	var stop *poller
	if len(p.sessions) == 0 && p.poll != nil {
		stop, p.poll = p.poll, nil
	}
	p.mu.Unlock()
	if stop != nil {
		stop.close()
	}
	return nil
}

// Obsolete and not-yet-implemented routines: the rest are wsp.Obsolete.

// WSPDuplicateSocket is WSADuplicateSocket: no second process to hand a
// socket to; WSAEOPNOTSUPP (after checking the handle).
func (ss *session) WSPDuplicateSocket(h wsa.Socket, processID uint32) (wsa.ProtocolInfo, error) {
	if _, err := ss.lookup(h); err != nil {
		return wsa.ProtocolInfo{}, err
	}
	return wsa.ProtocolInfo{}, wsa.WSAEOPNOTSUPP
}
