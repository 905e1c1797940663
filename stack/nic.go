package stack

import (
	"fmt"
	"io"
	"net/netip"
	"sync"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/link/loopback"
	"gvisor.dev/gvisor/pkg/tcpip/link/pipe"
	"gvisor.dev/gvisor/pkg/tcpip/link/qdisc/fifo"
	"gvisor.dev/gvisor/pkg/tcpip/link/sniffer"
	"gvisor.dev/gvisor/pkg/tcpip/stack"

	"github.com/ws2go/ws2/tun"
)

func init() {
	// gVisor's sniffer logs every packet it sees as text through gVisor's
	// logger (stderr) unless this is 0, even for a sniffer made with
	// NewWithWriter, whose documentation says otherwise. A pcap capture
	// must not also flood the log. Set it back to 1 to debug.
	sniffer.LogPackets.Store(0)
}

// DefaultPipeMTU is the MTU Pipe uses when asked for 0.
const DefaultPipeMTU = 1500

// minMTU is the smallest MTU a NIC may have: IPv6 needs 1280.
const minMTU = 1280

// The queueing discipline of a NIC over an offload TUN device: gVisor's
// fifo, with this many queues (each with its own goroutine; a flow always
// goes to the same queue) of this many packets. A packet sent while its
// queue is full is dropped (ErrNoBufferSpace), which TCP treats as a loss;
// gVisor has no TCP small queues to hold a sender back, so the queue is
// deeper than one connection's default 4 MiB send buffer in MSS-sized
// segments (about 2900): with 1000 packets (Linux's txqueuelen) a single
// bulk stream overflowed it, and its tail drops cost retransmission
// timeouts. Many connections, or larger send buffers, can still fill it.
const (
	offloadQueues   = 1
	offloadQueueLen = 4096
)

// NICConfig describes a NIC to attach.
type NICConfig struct {
	// Name names the NIC; names are unique within a Stack. Empty means
	// "lo" for AddLoopback, the device name for AddTUN and "pipe<ID>"
	// for Pipe.
	Name string

	// Addrs are assigned to the NIC, and a route to each prefix's network
	// is added through it. For AddLoopback, empty means 127.0.0.1/8 and
	// ::1/128.
	Addrs []netip.Prefix

	// Pcap, if not nil, receives a pcap capture (LINKTYPE_RAW: IP packets
	// without link header) of every packet the NIC sends and receives,
	// starting with the file header, which is written before the call
	// returns. Writes are serialized, one record per Write, on the packet
	// path: Pcap should be fast (buffer it, and flush it after Close). The
	// first write error stops the capture; traffic goes on.
	Pcap io.Writer

	// PcapSnapLen is the most bytes of each packet captured; 0 means
	// 65535.
	PcapSnapLen uint32

	// DefaultRoute routes 0.0.0.0/0 and ::/0 through this NIC.
	DefaultRoute bool
}

// AddLoopback attaches an in-process loopback NIC: every packet it sends is
// received again, in the sender's goroutine. With no cfg.Addrs it gets
// 127.0.0.1/8 and ::1/128. A Stack has at most one loopback NIC in practice:
// gVisor routes loopback traffic through the first one.
func (s *Stack) AddLoopback(cfg NICConfig) (tcpip.NICID, error) {
	if cfg.Name == "" {
		cfg.Name = "lo"
	}
	if len(cfg.Addrs) == 0 {
		cfg.Addrs = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/8"), netip.MustParsePrefix("::1/128")}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attachLocked(loopback.New(), cfg, "loopback", false)
}

// AddTUN attaches a NIC over a TUN device: a packet the kernel routes into
// the device is received by this Stack, and a packet this Stack sends
// through the NIC comes out of the device on the kernel side. The NIC's
// MTU is dev.MTU(). The kernel side of the device is configured separately
// (dev.AddAddress, dev.SetUp); the two sides are different hosts on one
// link, so they need different addresses.
//
// AddTUN takes ownership of dev, whether it succeeds or not: the NIC reads
// it in batches from a goroutine of its own, and closes it when the NIC is
// removed or the Stack is closed (or at once, on error). The caller may go
// on using dev's configuration methods, but not Read, Write or Close.
//
// If dev uses the offload driver (dev.Offload()), the NIC sends through a
// FIFO queue served by a goroutine of its own (gVisor's fifo queueing
// discipline, one queue of 1000 packets) instead of writing in the
// sending goroutine: packets that queue up while the device is busy go out
// as one batch, whose TCP and UDP segments the driver coalesces into GRO
// super-packets. With the plain driver sending is unchanged: one packet
// per write, in the sender's goroutine.
func (s *Stack) AddTUN(dev *tun.Device, cfg NICConfig) (tcpip.NICID, error) {
	if dev == nil {
		return 0, fmt.Errorf("stack: AddTUN: nil device")
	}
	if cfg.Name == "" {
		cfg.Name = dev.Name()
	}
	ep := newTUNEndpoint(dev)
	s.mu.Lock()
	defer s.mu.Unlock()
	id, err := s.attachLocked(ep, cfg, "tun", dev.Offload())
	if err != nil {
		ep.Close()
		return 0, err
	}
	s.tuns = append(s.tuns, ep)
	return id, nil
}

// Pipe joins a and b with a point-to-point in-memory link of the given MTU
// (0 means DefaultPipeMTU; at least 1280) and returns the NIC IDs on a and
// on b. A packet sent on one side is handed to the other stack in the
// sender's goroutine; nothing is queued or copied. ca and cb configure
// each side; give them addresses on a shared prefix (for example
// 192.0.2.1/24 and 192.0.2.2/24) so each routes to the other. a and b must
// be different Stacks.
//
// When either Stack is closed, packets sent from the other side toward it
// are dropped.
func Pipe(a, b *Stack, mtu uint32, ca, cb NICConfig) (tcpip.NICID, tcpip.NICID, error) {
	if a == nil || b == nil || a == b {
		return 0, 0, fmt.Errorf("stack: Pipe needs two different stacks")
	}
	if mtu == 0 {
		mtu = DefaultPipeMTU
	}
	if mtu < minMTU {
		return 0, 0, fmt.Errorf("stack: Pipe MTU %d below the IPv6 minimum %d", mtu, minMTU)
	}
	ea, eb := pipe.New("", "", mtu)
	attach := func(s *Stack, ep stack.LinkEndpoint, cfg NICConfig) (tcpip.NICID, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.attachLocked(ep, cfg, "pipe", false)
	}
	ida, err := attach(a, ea, ca)
	if err != nil {
		return 0, 0, err
	}
	idb, err := attach(b, eb, cb)
	if err != nil {
		a.gv.RemoveNIC(ida)
		return 0, 0, err
	}
	return ida, idb, nil
}

// attachLocked creates a NIC over ep (wrapped in a sniffer if cfg.Pcap is
// set) and applies cfg's addresses and routes. With queue, the NIC sends
// through a fifo queueing discipline (offloadQueues, offloadQueueLen)
// instead of writing in the sender's goroutine. On error the NIC is
// removed again. The caller closes ep if it must.
//
// +checklocks:s.mu
func (s *Stack) attachLocked(ep stack.LinkEndpoint, cfg NICConfig, kind string, queue bool) (tcpip.NICID, error) {
	if s.closed {
		return 0, ErrClosed
	}
	for _, p := range cfg.Addrs {
		if _, err := protocolAddress(p); err != nil {
			return 0, err
		}
	}
	var link stack.LinkEndpoint = ep
	if cfg.Pcap != nil {
		snap := cfg.PcapSnapLen
		if snap == 0 {
			snap = 65535
		}
		w := &pcapWriter{w: cfg.Pcap}
		sn, err := sniffer.NewWithWriter(ep, w, snap)
		if err == nil {
			err = w.err
		}
		if err != nil {
			return 0, fmt.Errorf("stack: pcap header: %w", err)
		}
		link = sn
	}
	id := s.gv.NextNICID()
	name := cfg.Name
	if name == "" {
		name = fmt.Sprintf("%s%d", kind, id)
	}
	opts := stack.NICOptions{Name: name, Kind: kind}
	if queue {
		// The queue writes to link: through the sniffer, if any, so
		// the capture sees packets as they leave the queue.
		opts.QDisc = fifo.New(link, offloadQueues, offloadQueueLen)
	}
	if err := s.gv.CreateNICWithOptions(id, link, opts); err != nil {
		if opts.QDisc != nil {
			opts.QDisc.Close() // ends its goroutines
		}
		return 0, tcpipErr(fmt.Sprintf("create %s NIC %q", kind, name), err)
	}
	fail := func(err error) (tcpip.NICID, error) {
		// RemoveNIC closes the link endpoint; for a TUN that closes the
		// device, which AddTUN's contract allows.
		s.gv.RemoveNIC(id)
		return 0, err
	}
	for _, p := range cfg.Addrs {
		if err := s.addAddressLocked(id, p); err != nil {
			return fail(err)
		}
		if err := s.addRouteLocked(p, id); err != nil {
			return fail(err)
		}
	}
	if cfg.DefaultRoute {
		for _, p := range []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0")} {
			if err := s.addRouteLocked(p, id); err != nil {
				return fail(err)
			}
		}
	}
	return id, nil
}

// pcapWriter serializes the sniffer's writes (it calls Write from every
// goroutine that moves packets, without locking) and absorbs write errors
// (the sniffer panics on one).
type pcapWriter struct {
	mu  sync.Mutex
	w   io.Writer
	err error // first write error; capture stopped
}

// Write implements io.Writer. It always reports success.
func (p *pcapWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err == nil {
		if _, err := p.w.Write(b); err != nil {
			p.err = err
		}
	}
	return len(b), nil
}
