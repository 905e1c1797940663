package ws2

import (
	"errors"
	"fmt"
	"io"
	"net/netip"

	"github.com/ws2go/ws2/api"
	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/provider/netstack"
	"github.com/ws2go/ws2/stack"
	"github.com/ws2go/ws2/tun"
	"github.com/ws2go/ws2/wsa"
)

// Host is one userspace host: a gVisor stack, a protocol catalog holding the
// netstack base provider's entries (MSAFD's TCP, UDP and RAW over IPv4 and
// IPv6), and a started Winsock Session over them. The embedded *api.Session
// carries every Winsock call, so h.Socket, h.Bind, h.WSASend… work directly.
//
// A Host is safe for concurrent use. Close it when done; it owns the stack.
type Host struct {
	*api.Session
	Stack   *stack.Stack
	Catalog *provider.Catalog
	// Netstack is the base provider behind Catalog's entries: for its
	// settings, such as SetRawAllowed (raw sockets need the process's
	// CAP_NET_RAW by default, as they need Administrator on Windows).
	Netstack *netstack.Provider
	// TUN is the device of a Host made by NewTUN, nil otherwise. The
	// Host owns it: use it to read its configuration (Name, MTU, Offload,
	// OffloadError) or to change its addresses, never to Read, Write or
	// Close it.
	TUN *tun.Device

	closers []io.Closer
}

// Options configure New.
type Options struct {
	// Stack configures the gVisor instance (SACK, buffer sizes, congestion
	// control); the zero value is ws2's defaults.
	Stack stack.Options
}

// New returns a Host whose stack has no NIC yet: add NICs through h.Stack
// (AddLoopback, AddTUN, stack.Pipe) before traffic can flow.
func New(opts Options) (*Host, error) {
	st, err := stack.New(opts.Stack)
	if err != nil {
		return nil, err
	}
	return start(st)
}

func start(st *stack.Stack) (*Host, error) {
	cat := provider.NewCatalog(provider.NewRegistry())
	p := netstack.New(st)
	if err := p.Install(cat, netstack.DefaultPath); err != nil {
		st.Close()
		return nil, fmt.Errorf("ws2: install netstack provider: %w", err)
	}
	s, err := api.WSAStartup(wsa.WINSOCK_VERSION, cat)
	if err != nil {
		st.Close()
		return nil, err
	}
	return &Host{Session: s, Stack: st, Catalog: cat, Netstack: p}, nil
}

// NewLoopback returns a Host on a fresh in-process stack with only a loopback
// NIC (127.0.0.1/8 and ::1). It needs no privileges and touches nothing of
// the machine's own network.
func NewLoopback() (*Host, error) {
	st, err := stack.NewLoopback()
	if err != nil {
		return nil, err
	}
	return start(st)
}

// Pipe addresses used by NewPipe.
var (
	PipeAddrA = []netip.Prefix{netip.MustParsePrefix("198.18.0.1/24"), netip.MustParsePrefix("2001:db8::1/64")}
	PipeAddrB = []netip.Prefix{netip.MustParsePrefix("198.18.0.2/24"), netip.MustParsePrefix("2001:db8::2/64")}
)

// NewPipe returns two Hosts joined by an in-memory point-to-point link with
// the given MTU (0 for 1500): a has PipeAddrA, b has PipeAddrB. Each also has
// a loopback NIC. Close both.
func NewPipe(mtu uint32) (a, b *Host, err error) {
	if mtu == 0 {
		mtu = 1500
	}
	sa, err := stack.NewLoopback()
	if err != nil {
		return nil, nil, err
	}
	sb, err := stack.NewLoopback()
	if err != nil {
		sa.Close()
		return nil, nil, err
	}
	if _, _, err := stack.Pipe(sa, sb, mtu, stack.NICConfig{Name: "pipe0", Addrs: PipeAddrA}, stack.NICConfig{Name: "pipe0", Addrs: PipeAddrB}); err != nil {
		sa.Close()
		sb.Close()
		return nil, nil, err
	}
	if a, err = start(sa); err != nil {
		sb.Close()
		return nil, nil, err
	}
	if b, err = start(sb); err != nil {
		a.Close()
		return nil, nil, err
	}
	return a, b, nil
}

// TUNConfig configures NewTUN.
type TUNConfig struct {
	Name string // TUN device name; "" lets the kernel pick
	MTU  int    // 0 for 1500
	// Addrs are the userspace host's addresses on the link (the stack's side).
	Addrs []netip.Prefix
	// KernelAddrs, if set, are assigned to the kernel's side of the TUN
	// device, so kernel programs can reach Addrs.
	KernelAddrs []netip.Prefix
	// Pcap, if set, receives a pcap capture of the TUN NIC.
	Pcap io.Writer
	// Stack configures the gVisor instance.
	Stack stack.Options
	// Offload opens the device with the offload driver (tun.Config.Offload:
	// IFF_VNET_HDR, TSO/USO and checksum offload, GSO super-packets read
	// and GRO super-packets written in batches) instead of the plain one.
	// If the kernel refuses the offloads the plain driver is used;
	// Host.TUN reports which one is in use.
	Offload bool
}

// NewTUN opens a TUN device, brings its kernel side up (with KernelAddrs),
// and returns a Host whose stack is attached to it with Addrs and a default
// route through it. It needs CAP_NET_ADMIN; the errors of package tun say what
// is missing. The device is removed when the Host is closed.
func NewTUN(cfg TUNConfig) (*Host, error) {
	if len(cfg.Addrs) == 0 {
		return nil, errors.New("ws2: a TUN host needs at least one address")
	}
	mtu := cfg.MTU
	if mtu == 0 {
		mtu = 1500
	}
	dev, err := tun.Open(tun.Config{Name: cfg.Name, MTU: mtu, Offload: cfg.Offload})
	if err != nil {
		return nil, err
	}
	for _, p := range cfg.KernelAddrs {
		if err := dev.AddAddress(p); err != nil {
			dev.Close()
			return nil, fmt.Errorf("ws2: kernel address %v: %w", p, err)
		}
	}
	if err := dev.SetUp(true); err != nil {
		dev.Close()
		return nil, err
	}
	st, err := stack.New(cfg.Stack)
	if err != nil {
		dev.Close()
		return nil, err
	}
	if _, err := st.AddTUN(dev, stack.NICConfig{Name: dev.Name(), Addrs: cfg.Addrs, Pcap: cfg.Pcap, DefaultRoute: true}); err != nil {
		st.Close()
		dev.Close()
		return nil, err
	}
	h, err := start(st)
	if err != nil {
		dev.Close()
		return nil, err
	}
	h.closers = append(h.closers, dev)
	h.TUN = dev
	return h, nil
}

// Close ends the Session (WSACleanup: every socket closed, pending work
// aborted), then stops the stack and releases its devices. It is safe to call
// more than once.
func (h *Host) Close() error {
	err := h.Session.WSACleanup()
	if errors.Is(err, wsa.WSANOTINITIALISED) {
		err = nil
	}
	h.Stack.Close()
	for _, c := range h.closers {
		c.Close()
	}
	h.closers = nil
	return err
}
