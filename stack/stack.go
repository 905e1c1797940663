package stack

import (
	"errors"
	"fmt"
	"net/netip"
	"sync"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/icmp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/raw"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
)

// ErrClosed is returned by methods of a Stack after Close.
var ErrClosed = errors.New("stack: closed")

// Error is an error reported by gVisor. Err keeps the concrete tcpip.Error
// (for example *tcpip.ErrDuplicateNICID) for callers that translate it.
type Error struct {
	Op  string      // what this package was doing, e.g. "create NIC"
	Err tcpip.Error // gVisor's error
}

// Error implements error.
func (e *Error) Error() string { return "stack: " + e.Op + ": " + e.Err.String() }

func tcpipErr(op string, err tcpip.Error) error {
	if err == nil {
		return nil
	}
	return &Error{Op: op, Err: err}
}

// BufferSize is a TCP buffer size range in bytes, as in Linux's tcp_rmem and
// tcp_wmem: the smallest size auto-tuning may choose, the size a new
// connection starts with, and the largest size auto-tuning (and
// SO_RCVBUF/SO_SNDBUF-style requests) may reach.
//
// The zero value keeps gVisor's defaults (Min 4 KiB, Default 1 MiB, Max
// 4 MiB). A zero field keeps gVisor's default for that field alone. The
// result must satisfy 0 < Min ≤ Default ≤ Max.
type BufferSize struct{ Min, Default, Max int }

// Options configure a Stack. The zero value is a good default.
type Options struct {
	// DisableSACK turns TCP selective acknowledgements (RFC 2018) off.
	// SACK is on by default: it recovers from multiple losses per window
	// far faster.
	DisableSACK bool

	// DisableReceiveBufferAutoTuning turns off TCP receive-buffer
	// moderation (tcpip.TCPModerateReceiveBufferOption), which grows a
	// connection's receive window towards TCPReceiveBufferSize.Max as the
	// bandwidth-delay product requires. On by default.
	DisableReceiveBufferAutoTuning bool

	// TCPSendBufferSize and TCPReceiveBufferSize set the TCP buffer
	// ranges. See BufferSize for the zero value and validation.
	TCPSendBufferSize, TCPReceiveBufferSize BufferSize

	// CongestionControl selects TCP congestion control for new
	// connections: "reno" (gVisor's default; also chosen by "") or
	// "cubic" (with HyStart). Any other name makes New fail.
	CongestionControl string
}

// Stack is one gVisor network stack with the NICs attached to it.
//
// Its methods are safe for concurrent use. Close ends it; afterwards every
// method that changes it returns ErrClosed.
//
// The Stack always handles traffic between its own addresses internally
// (gVisor's HandleLocal): a connection from one of its addresses to another
// never leaves through a NIC, as on any host.
type Stack struct {
	gv *stack.Stack

	mu     sync.Mutex
	closed bool
	tuns   []*tunEndpoint // stopped by Close before gVisor waits for NICs

	closeOnce sync.Once
}

// New creates a Stack with no NICs. It fails only for invalid Options.
func New(opts Options) (*Stack, error) {
	gv := stack.New(stack.Options{
		NetworkProtocols:   []stack.NetworkProtocolFactory{ipv4.NewProtocol, ipv6.NewProtocol},
		TransportProtocols: []stack.TransportProtocolFactory{tcp.NewProtocol, udp.NewProtocol, icmp.NewProtocol4, icmp.NewProtocol6},
		RawFactory:         raw.EndpointFactory{},
		HandleLocal:        true,
	})
	if err := applyOptions(gv, opts); err != nil {
		gv.Destroy()
		return nil, err
	}
	return &Stack{gv: gv}, nil
}

// applyOptions sets the TCP options of opts on gv.
func applyOptions(gv *stack.Stack, opts Options) error {
	set := func(name string, o tcpip.SettableTransportProtocolOption) error {
		if err := gv.SetTransportProtocolOption(tcp.ProtocolNumber, o); err != nil {
			return fmt.Errorf("stack: set TCP %s: %s", name, err)
		}
		return nil
	}
	sack := tcpip.TCPSACKEnabled(!opts.DisableSACK)
	if err := set("SACK", &sack); err != nil {
		return err
	}
	mod := tcpip.TCPModerateReceiveBufferOption(!opts.DisableReceiveBufferAutoTuning)
	if err := set("receive buffer auto-tuning", &mod); err != nil {
		return err
	}

	if opts.TCPSendBufferSize != (BufferSize{}) {
		var cur tcpip.TCPSendBufferSizeRangeOption
		if err := gv.TransportProtocolOption(tcp.ProtocolNumber, &cur); err != nil {
			return fmt.Errorf("stack: read TCP send buffer sizes: %s", err)
		}
		b, err := opts.TCPSendBufferSize.merge(BufferSize(cur))
		if err != nil {
			return fmt.Errorf("stack: TCPSendBufferSize: %w", err)
		}
		o := tcpip.TCPSendBufferSizeRangeOption(b)
		if err := set("send buffer sizes", &o); err != nil {
			return err
		}
	}
	if opts.TCPReceiveBufferSize != (BufferSize{}) {
		var cur tcpip.TCPReceiveBufferSizeRangeOption
		if err := gv.TransportProtocolOption(tcp.ProtocolNumber, &cur); err != nil {
			return fmt.Errorf("stack: read TCP receive buffer sizes: %s", err)
		}
		b, err := opts.TCPReceiveBufferSize.merge(BufferSize(cur))
		if err != nil {
			return fmt.Errorf("stack: TCPReceiveBufferSize: %w", err)
		}
		o := tcpip.TCPReceiveBufferSizeRangeOption(b)
		if err := set("receive buffer sizes", &o); err != nil {
			return err
		}
	}

	if opts.CongestionControl != "" {
		cc := tcpip.CongestionControlOption(opts.CongestionControl)
		if err := gv.SetTransportProtocolOption(tcp.ProtocolNumber, &cc); err != nil {
			var avail tcpip.TCPAvailableCongestionControlOption
			gv.TransportProtocolOption(tcp.ProtocolNumber, &avail)
			return fmt.Errorf("stack: unknown congestion control %q (available: %s)", opts.CongestionControl, string(avail))
		}
	}
	return nil
}

// merge fills the zero fields of b from def and validates the result.
func (b BufferSize) merge(def BufferSize) (BufferSize, error) {
	if b.Min < 0 || b.Default < 0 || b.Max < 0 {
		return b, fmt.Errorf("negative size in %+v", b)
	}
	if b.Min == 0 {
		b.Min = def.Min
	}
	if b.Default == 0 {
		b.Default = def.Default
	}
	if b.Max == 0 {
		b.Max = def.Max
	}
	if !(0 < b.Min && b.Min <= b.Default && b.Default <= b.Max) {
		return b, fmt.Errorf("%+v: want 0 < Min <= Default <= Max", b)
	}
	return b, nil
}

// NewLoopback returns a Stack with default Options and one loopback NIC
// ("lo", 127.0.0.1/8 and ::1/128).
func NewLoopback() (*Stack, error) {
	s, err := New(Options{})
	if err != nil {
		return nil, err
	}
	if _, err := s.AddLoopback(NICConfig{}); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// GVisor returns the underlying gVisor stack. It is for provider/netstack,
// tests and benchmarks: everything else goes through the provider SPI. Do
// not call its Close, Wait or Destroy; use Stack.Close, which also stops the
// TUN readers in the right order.
func (s *Stack) GVisor() *stack.Stack { return s.gv }

// Close aborts every endpoint (connected TCP endpoints send a RST), stops
// the TUN readers and closes their devices, removes every NIC and waits for
// all goroutines the stack started. It blocks until then. It is idempotent
// and safe to call concurrently.
func (s *Stack) Close() {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		tuns := s.tuns
		s.tuns = nil
		s.mu.Unlock()

		// Abort endpoints while NICs still work, so RSTs go out.
		s.gv.Close()
		// Stop TUN readers outside any gVisor lock: a reader may be in
		// the middle of delivering a packet, which can take the stack's
		// locks. gVisor's Wait would wait for them while holding one.
		for _, ep := range tuns {
			ep.Close()
		}
		// Remove NICs and wait for the protocol goroutines.
		s.gv.Wait()
	})
}

// AddAddress assigns p to NIC nic. It does not add a route; see AddRoute
// (NICConfig.Addrs does both).
func (s *Stack) AddAddress(nic tcpip.NICID, p netip.Prefix) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	return s.addAddressLocked(nic, p)
}

func (s *Stack) addAddressLocked(nic tcpip.NICID, p netip.Prefix) error {
	pa, err := protocolAddress(p)
	if err != nil {
		return err
	}
	return tcpipErr(fmt.Sprintf("add address %v to NIC %d", p, nic), s.gv.AddProtocolAddress(nic, pa, stack.AddressProperties{}))
}

// AddRoute sends traffic for dst (its masked network) out of NIC nic, as an
// on-link route (no gateway). Adding a route that already exists does
// nothing.
func (s *Stack) AddRoute(dst netip.Prefix, nic tcpip.NICID) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	return s.addRouteLocked(dst, nic)
}

func (s *Stack) addRouteLocked(dst netip.Prefix, nic tcpip.NICID) error {
	if !s.gv.HasNIC(nic) {
		return tcpipErr(fmt.Sprintf("add route %v via NIC %d", dst, nic), &tcpip.ErrUnknownNICID{})
	}
	pa, err := protocolAddress(dst.Masked())
	if err != nil {
		return err
	}
	r := tcpip.Route{Destination: pa.AddressWithPrefix.Subnet(), NIC: nic}
	for _, have := range s.gv.GetRouteTable() {
		if have.Equal(r) {
			return nil
		}
	}
	s.gv.AddRoute(r)
	return nil
}

// protocolAddress converts p to gVisor's form.
func protocolAddress(p netip.Prefix) (tcpip.ProtocolAddress, error) {
	if !p.IsValid() {
		return tcpip.ProtocolAddress{}, fmt.Errorf("stack: invalid prefix %v", p)
	}
	a := p.Addr()
	if a.Is4In6() {
		return tcpip.ProtocolAddress{}, fmt.Errorf("stack: prefix %v: use the IPv4 form of an IPv4-mapped address", p)
	}
	proto := ipv6.ProtocolNumber
	if a.Is4() {
		proto = ipv4.ProtocolNumber
	}
	return tcpip.ProtocolAddress{
		Protocol: proto,
		AddressWithPrefix: tcpip.AddressWithPrefix{
			Address:   tcpip.AddrFromSlice(a.AsSlice()),
			PrefixLen: p.Bits(),
		},
	}, nil
}
