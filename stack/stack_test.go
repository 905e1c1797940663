package stack

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"

	"github.com/ws2go/ws2/internal/testutil"
)

func fullAddr(ap netip.AddrPort) (tcpip.FullAddress, tcpip.NetworkProtocolNumber) {
	proto := ipv6.ProtocolNumber
	if ap.Addr().Is4() {
		proto = ipv4.ProtocolNumber
	}
	return tcpip.FullAddress{Addr: tcpip.AddrFromSlice(ap.Addr().AsSlice()), Port: ap.Port()}, proto
}

// echoServer accepts connections on ln and echoes each until EOF. The
// returned func closes ln and waits for every goroutine.
func echoServer(ln net.Listener) (stop func()) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(2)
			// Reading and writing in separate goroutines, with the data
			// queued between them: the server keeps reading (its receive
			// window open) while its writes wait. A one-goroutine
			// io.Copy(c, c) can deadlock on gVisor's zero-window bug
			// (see the package doc, "Known issue").
			q := make(chan []byte, 1024)
			go func() {
				defer wg.Done()
				defer close(q)
				for {
					b := make([]byte, 32<<10)
					n, err := c.Read(b)
					if n > 0 {
						q <- b[:n]
					}
					if err != nil {
						return
					}
				}
			}()
			go func() {
				defer wg.Done()
				defer c.Close()
				for b := range q {
					if _, err := c.Write(b); err != nil {
						c.Close() // ends the reader
						for range q {
						}
						return
					}
				}
			}()
		}
	}()
	return func() { ln.Close(); wg.Wait() }
}

// listenTCP starts an echo server on s at ap.
func listenTCP(t *testing.T, s *Stack, ap netip.AddrPort) (stop func()) {
	t.Helper()
	fa, proto := fullAddr(ap)
	ln, err := gonet.ListenTCP(s.GVisor(), fa, proto)
	if err != nil {
		t.Fatalf("listen %v: %v", ap, err)
	}
	return echoServer(ln)
}

// roundTrip writes n random bytes to c and reads them back.
func roundTrip(t *testing.T, c net.Conn, n int) {
	t.Helper()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	want := make([]byte, n)
	rand.Read(want)
	errc := make(chan error, 1)
	go func() {
		_, err := c.Write(want)
		errc <- err
	}()
	got := make([]byte, n)
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatalf("read back: %v", err)
	}
	if err := <-errc; err != nil {
		t.Fatalf("write: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("echoed bytes differ")
	}
}

// writeUntilError writes to c without end, for at most 20 seconds, and
// sends the error that stops it.
func writeUntilError(c net.Conn) <-chan error {
	done := make(chan error, 1)
	go func() {
		buf := make([]byte, 64<<10)
		c.SetWriteDeadline(time.Now().Add(20 * time.Second))
		for {
			if _, err := c.Write(buf); err != nil {
				done <- err
				return
			}
		}
	}()
	return done
}

// dialTCP connects from s to ap.
func dialTCP(t *testing.T, s *Stack, ap netip.AddrPort) net.Conn {
	t.Helper()
	fa, proto := fullAddr(ap)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := gonet.DialContextTCP(ctx, s.GVisor(), fa, proto)
	if err != nil {
		t.Fatalf("dial %v: %v", ap, err)
	}
	return c
}

// udpEcho sends a datagram from s to ap, where srv echoes one back.
func udpRoundTrip(t *testing.T, client, server *Stack, ap netip.AddrPort) {
	t.Helper()
	fa, proto := fullAddr(ap)
	srv, err := gonet.DialUDP(server.GVisor(), &fa, nil, proto)
	if err != nil {
		t.Fatalf("udp listen %v: %v", ap, err)
	}
	defer srv.Close()
	cl, err := gonet.DialUDP(client.GVisor(), nil, &fa, proto)
	if err != nil {
		t.Fatalf("udp dial %v: %v", ap, err)
	}
	defer cl.Close()
	done := make(chan error, 1)
	go func() {
		buf := make([]byte, 2000)
		srv.SetDeadline(time.Now().Add(10 * time.Second))
		n, from, err := srv.ReadFrom(buf)
		if err == nil {
			_, err = srv.WriteTo(buf[:n], from)
		}
		done <- err
	}()
	msg := []byte("datagram over " + ap.String())
	cl.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := cl.Write(msg); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 2000)
	n, err := cl.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf[:n], msg) {
		t.Fatalf("got %q", buf[:n])
	}
}

func prefixes(s ...string) []netip.Prefix {
	var out []netip.Prefix
	for _, p := range s {
		out = append(out, netip.MustParsePrefix(p))
	}
	return out
}

func TestBufferSizeMerge(t *testing.T) {
	def := BufferSize{4096, 1 << 20, 4 << 20}
	tests := []struct {
		in      BufferSize
		want    BufferSize
		wantErr bool
	}{
		{BufferSize{}, def, false},
		{BufferSize{Max: 8 << 20}, BufferSize{4096, 1 << 20, 8 << 20}, false},
		{BufferSize{1, 2, 3}, BufferSize{1, 2, 3}, false},
		{BufferSize{Default: 8 << 20}, BufferSize{}, true}, // Default > default Max
		{BufferSize{Max: 1000}, BufferSize{}, true},        // Max < default Min
		{BufferSize{Min: -1}, BufferSize{}, true},
		{BufferSize{3, 2, 1}, BufferSize{}, true},
	}
	for _, tt := range tests {
		got, err := tt.in.merge(def)
		if (err != nil) != tt.wantErr {
			t.Errorf("%+v.merge = %+v, %v; want error %v", tt.in, got, err, tt.wantErr)
			continue
		}
		if err == nil && got != tt.want {
			t.Errorf("%+v.merge = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func TestOptions(t *testing.T) {
	type readBack struct {
		sack, moderate bool
		cc             string
		send, recv     BufferSize
	}
	def := readBack{true, true, "reno", BufferSize{4096, 1 << 20, 4 << 20}, BufferSize{4096, 1 << 20, 4 << 20}}
	tests := []struct {
		name    string
		opts    Options
		want    readBack
		wantErr string
	}{
		{"defaults", Options{}, def, ""},
		{"no SACK", Options{DisableSACK: true}, readBack{false, true, "reno", def.send, def.recv}, ""},
		{"no auto-tuning", Options{DisableReceiveBufferAutoTuning: true}, readBack{true, false, "reno", def.send, def.recv}, ""},
		{"reno", Options{CongestionControl: "reno"}, def, ""},
		{"cubic", Options{CongestionControl: "cubic"}, readBack{true, true, "cubic", def.send, def.recv}, ""},
		{"buffers", Options{
			TCPSendBufferSize:    BufferSize{8 << 10, 256 << 10, 8 << 20},
			TCPReceiveBufferSize: BufferSize{Max: 16 << 20},
		}, readBack{true, true, "reno", BufferSize{8 << 10, 256 << 10, 8 << 20}, BufferSize{4096, 1 << 20, 16 << 20}}, ""},
		{"unknown cc", Options{CongestionControl: "bbr"}, readBack{}, `unknown congestion control "bbr"`},
		{"bad send buffer", Options{TCPSendBufferSize: BufferSize{Min: 10, Default: 5}}, readBack{}, "TCPSendBufferSize"},
		{"bad receive buffer", Options{TCPReceiveBufferSize: BufferSize{Max: -1}}, readBack{}, "TCPReceiveBufferSize"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(tt.opts)
			if tt.wantErr != "" {
				if err == nil {
					s.Close()
					t.Fatalf("New(%+v) succeeded", tt.opts)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("New(%+v) = %v, want %q", tt.opts, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			gv := s.GVisor()
			var (
				sack tcpip.TCPSACKEnabled
				mod  tcpip.TCPModerateReceiveBufferOption
				cc   tcpip.CongestionControlOption
				snd  tcpip.TCPSendBufferSizeRangeOption
				rcv  tcpip.TCPReceiveBufferSizeRangeOption
			)
			for _, o := range []tcpip.GettableTransportProtocolOption{&sack, &mod, &cc, &snd, &rcv} {
				if err := gv.TransportProtocolOption(tcp.ProtocolNumber, o); err != nil {
					t.Fatalf("read %T: %v", o, err)
				}
			}
			got := readBack{bool(sack), bool(mod), string(cc), BufferSize(snd), BufferSize(rcv)}
			if got != tt.want {
				t.Fatalf("options read back %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestLoopbackEcho(t *testing.T) {
	check := testutil.LeakCheck(t)
	s, err := NewLoopback()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{"127.0.0.1:7", "[::1]:7", "127.1.2.3:8"} {
		ap := netip.MustParseAddrPort(a)
		t.Run(a, func(t *testing.T) {
			stop := listenTCP(t, s, ap)
			defer stop()
			c := dialTCP(t, s, ap)
			roundTrip(t, c, 256<<10)
			c.Close()
			udpRoundTrip(t, s, s, netip.AddrPortFrom(ap.Addr(), 9))
		})
	}
	info := s.GVisor().NICInfo()
	if len(info) != 1 {
		t.Fatalf("NICs = %v", info)
	}
	for _, ni := range info {
		if ni.Name != "lo" || !ni.Flags.Loopback {
			t.Fatalf("loopback NIC = %+v", ni)
		}
	}
	s.Close()
	check()
}

// pipePair joins two new stacks over a Pipe with IPv4 and IPv6 addresses.
func pipePair(t *testing.T, ca, cb NICConfig) (a, b *Stack) {
	t.Helper()
	var err error
	if a, err = New(Options{}); err != nil {
		t.Fatal(err)
	}
	if b, err = New(Options{}); err != nil {
		t.Fatal(err)
	}
	if ca.Addrs == nil {
		ca.Addrs = prefixes("192.0.2.1/24", "2001:db8::1/64")
	}
	if cb.Addrs == nil {
		cb.Addrs = prefixes("192.0.2.2/24", "2001:db8::2/64")
	}
	if _, _, err := Pipe(a, b, 0, ca, cb); err != nil {
		t.Fatal(err)
	}
	return a, b
}

func TestPipe(t *testing.T) {
	check := testutil.LeakCheck(t)
	a, b := pipePair(t, NICConfig{}, NICConfig{})
	tests := []struct {
		name   string
		server netip.Addr
	}{
		{"IPv4", netip.MustParseAddr("192.0.2.2")},
		{"IPv6", netip.MustParseAddr("2001:db8::2")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ap := netip.AddrPortFrom(tt.server, 80)
			stop := listenTCP(t, b, ap)
			defer stop()
			c := dialTCP(t, a, ap)
			if got := c.LocalAddr().(*net.TCPAddr).AddrPort().Addr().Unmap(); got == tt.server || got.Is4() != tt.server.Is4() {
				t.Fatalf("client address %v", got)
			}
			roundTrip(t, c, 4<<20)
			c.Close()
			udpRoundTrip(t, a, b, netip.AddrPortFrom(tt.server, 53))
		})
	}
	a.Close()
	b.Close()
	check()
}

// TestPipeOneSideClosed: closing one stack does not disturb the other;
// packets toward the closed side are dropped.
func TestPipeOneSideClosed(t *testing.T) {
	check := testutil.LeakCheck(t)
	a, b := pipePair(t, NICConfig{}, NICConfig{})
	b.Close()
	fa, proto := fullAddr(netip.MustParseAddrPort("192.0.2.2:80"))
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if c, err := gonet.DialContextTCP(ctx, a.GVisor(), fa, proto); err == nil {
		c.Close()
		t.Fatal("dial to a closed stack succeeded")
	}
	a.Close()
	check()
}

func TestDefaultRoute(t *testing.T) {
	// b owns 198.18.0.1 on its pipe NIC, outside a's on-link prefix; a
	// reaches it only through its default route.
	a, b := pipePair(t, NICConfig{DefaultRoute: true}, NICConfig{})
	defer a.Close()
	defer b.Close()
	if err := b.AddAddress(99, netip.MustParsePrefix("198.18.0.1/32")); err == nil {
		t.Fatal("AddAddress on a NIC that does not exist succeeded")
	}
	var bNIC tcpip.NICID
	for id := range b.GVisor().NICInfo() {
		bNIC = id
	}
	if err := b.AddAddress(bNIC, netip.MustParsePrefix("198.18.0.1/32")); err != nil {
		t.Fatal(err)
	}
	ap := netip.MustParseAddrPort("198.18.0.1:443")
	stop := listenTCP(t, b, ap)
	defer stop()
	c := dialTCP(t, a, ap)
	roundTrip(t, c, 1000)
	c.Close()
}

func TestAddressAndRouteErrors(t *testing.T) {
	s, err := NewLoopback()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var lo tcpip.NICID
	for id := range s.GVisor().NICInfo() {
		lo = id
	}
	routes := len(s.GVisor().GetRouteTable())
	if err := s.AddRoute(netip.MustParsePrefix("127.0.0.99/8"), lo); err != nil {
		t.Fatal(err)
	}
	if n := len(s.GVisor().GetRouteTable()); n != routes {
		t.Fatalf("duplicate route added: %d routes, had %d", n, routes)
	}
	if err := s.AddRoute(netip.MustParsePrefix("198.18.0.0/15"), lo); err != nil {
		t.Fatal(err)
	}
	if n := len(s.GVisor().GetRouteTable()); n != routes+1 {
		t.Fatalf("%d routes, want %d", n, routes+1)
	}

	tests := []struct {
		name string
		err  error
		want any // *tcpip.Err… type for *Error, or a string
	}{
		{"route via unknown NIC", s.AddRoute(netip.MustParsePrefix("10.0.0.0/8"), 99), &tcpip.ErrUnknownNICID{}},
		{"address on unknown NIC", s.AddAddress(99, netip.MustParsePrefix("10.0.0.1/8")), &tcpip.ErrUnknownNICID{}},
		{"duplicate address", s.AddAddress(lo, netip.MustParsePrefix("127.0.0.1/8")), &tcpip.ErrDuplicateAddress{}},
		{"invalid prefix", s.AddAddress(lo, netip.Prefix{}), "invalid prefix"},
		{"mapped address", s.AddAddress(lo, netip.MustParsePrefix("::ffff:10.0.0.1/128")), "IPv4-mapped"},
		{"duplicate NIC name", func() error { _, err := s.AddLoopback(NICConfig{}); return err }(), &tcpip.ErrDuplicateNICID{}},
	}
	for _, tt := range tests {
		if tt.err == nil {
			t.Errorf("%s: no error", tt.name)
			continue
		}
		switch w := tt.want.(type) {
		case string:
			if !strings.Contains(tt.err.Error(), w) {
				t.Errorf("%s: %v, want %q", tt.name, tt.err, w)
			}
		default:
			var e *Error
			if !errors.As(tt.err, &e) || fmt.Sprintf("%T", e.Err) != fmt.Sprintf("%T", w) {
				t.Errorf("%s: %v (%T), want *Error with %T", tt.name, tt.err, tt.err, w)
			}
		}
	}
}

func TestPipeErrors(t *testing.T) {
	a, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, _, err := Pipe(a, a, 0, NICConfig{}, NICConfig{}); err == nil {
		t.Error("Pipe(a, a) succeeded")
	}
	if _, _, err := Pipe(a, nil, 0, NICConfig{}, NICConfig{}); err == nil {
		t.Error("Pipe(a, nil) succeeded")
	}
	if _, _, err := Pipe(a, b, 1000, NICConfig{}, NICConfig{}); err == nil {
		t.Error("Pipe with MTU 1000 succeeded")
	}
	// A bad address on b's side: a's NIC is removed again.
	if _, _, err := Pipe(a, b, 0, NICConfig{}, NICConfig{Addrs: []netip.Prefix{{}}}); err == nil {
		t.Error("Pipe with an invalid address succeeded")
	}
	if n := len(a.GVisor().NICInfo()); n != 0 {
		t.Errorf("a has %d NICs after a failed Pipe", n)
	}
	ida, idb, err := Pipe(a, b, 9000, NICConfig{Name: "left"}, NICConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if ni := a.GVisor().NICInfo()[ida]; ni.Name != "left" || ni.MTU != 9000 {
		t.Errorf("a's NIC = %+v", ni)
	}
	if ni := b.GVisor().NICInfo()[idb]; ni.Name != fmt.Sprintf("pipe%d", idb) {
		t.Errorf("b's NIC = %+v", ni)
	}
}

func TestClose(t *testing.T) {
	check := testutil.LeakCheck(t)
	s, err := NewLoopback()
	if err != nil {
		t.Fatal(err)
	}
	stop := listenTCP(t, s, netip.MustParseAddrPort("127.0.0.1:80"))
	c := dialTCP(t, s, netip.MustParseAddrPort("127.0.0.1:80"))
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() { defer wg.Done(); s.Close() }()
	}
	wg.Wait()
	s.Close()
	// Blocked and later calls on endpoints fail; the stack refuses changes.
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Fatal("read on an aborted connection succeeded")
	}
	c.Close()
	stop()
	if _, err := s.AddLoopback(NICConfig{Name: "lo2"}); !errors.Is(err, ErrClosed) {
		t.Fatalf("AddLoopback after Close = %v", err)
	}
	if err := s.AddAddress(1, netip.MustParsePrefix("10.0.0.1/8")); !errors.Is(err, ErrClosed) {
		t.Fatalf("AddAddress after Close = %v", err)
	}
	if err := s.AddRoute(netip.MustParsePrefix("10.0.0.0/8"), 1); !errors.Is(err, ErrClosed) {
		t.Fatalf("AddRoute after Close = %v", err)
	}
	if _, _, err := Pipe(s, &Stack{}, 0, NICConfig{}, NICConfig{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Pipe after Close = %v", err)
	}
	check()
}

// pcapRecord is one record of a pcap file.
type pcapRecord struct {
	inclLen, origLen uint32
	data             []byte
}

// parsePcap checks the file header of a pcap capture and returns its
// records.
func parsePcap(t *testing.T, b []byte) (snap uint32, recs []pcapRecord) {
	t.Helper()
	if len(b) < 24 {
		t.Fatalf("pcap: %d bytes, no header", len(b))
	}
	le := binary.LittleEndian
	if magic := le.Uint32(b[0:]); magic != 0xa1b2c3d4 {
		t.Fatalf("pcap magic %#x", magic)
	}
	if maj, min := le.Uint16(b[4:]), le.Uint16(b[6:]); maj != 2 || min != 4 {
		t.Fatalf("pcap version %d.%d", maj, min)
	}
	if lt := le.Uint32(b[20:]); lt != 101 {
		t.Fatalf("pcap link type %d, want 101 (raw IP)", lt)
	}
	snap = le.Uint32(b[16:])
	b = b[24:]
	for len(b) > 0 {
		if len(b) < 16 {
			t.Fatalf("pcap: truncated record header (%d bytes)", len(b))
		}
		r := pcapRecord{inclLen: le.Uint32(b[8:]), origLen: le.Uint32(b[12:])}
		b = b[16:]
		if int(r.inclLen) > len(b) || r.inclLen > r.origLen {
			t.Fatalf("pcap: record incl %d orig %d with %d bytes left", r.inclLen, r.origLen, len(b))
		}
		r.data, b = b[:r.inclLen], b[r.inclLen:]
		recs = append(recs, r)
	}
	return snap, recs
}

func TestPcap(t *testing.T) {
	tests := []struct {
		snap     uint32
		wantSnap uint32
	}{
		{0, 65535},
		{96, 96},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint("snap=", tt.snap), func(t *testing.T) {
			var capA testutil.LockedBuffer
			a, b := pipePair(t, NICConfig{Pcap: &capA, PcapSnapLen: tt.snap}, NICConfig{})
			if _, recs := parsePcap(t, capA.Bytes()); len(recs) != 0 {
				t.Fatalf("%d records before any traffic", len(recs))
			}
			ap := netip.MustParseAddrPort("192.0.2.2:80")
			stop := listenTCP(t, b, ap)
			c := dialTCP(t, a, ap)
			roundTrip(t, c, 10000)
			c.Close()
			stop()
			a.Close()
			b.Close()
			snap, recs := parsePcap(t, capA.Bytes())
			if snap != tt.wantSnap {
				t.Fatalf("snap length %d, want %d", snap, tt.wantSnap)
			}
			if len(recs) < 6 { // handshake, data, acks, FIN
				t.Fatalf("%d records", len(recs))
			}
			var syn, truncated bool
			for _, r := range recs {
				if r.inclLen > tt.wantSnap {
					t.Fatalf("record of %d bytes beyond snap %d", r.inclLen, tt.wantSnap)
				}
				truncated = truncated || r.inclLen < r.origLen
				ip := header.IPv4(r.data)
				if !ip.IsValid(int(r.origLen)) && r.inclLen == r.origLen {
					t.Fatalf("record is not a valid IPv4 packet: % x", r.data[:min(len(r.data), 40)])
				}
				if ip.Protocol() == uint8(tcp.ProtocolNumber) && ip.SourceAddress() == tcpip.AddrFrom4([4]byte{192, 0, 2, 1}) {
					if header.TCP(r.data[ip.HeaderLength():]).Flags()&header.TCPFlagSyn != 0 {
						syn = true
					}
				}
			}
			if !syn {
				t.Fatal("no SYN from 192.0.2.1 in the capture")
			}
			if tt.snap != 0 && !truncated {
				t.Fatal("no record was truncated to the snap length")
			}
		})
	}
}

// failingWriter accepts the pcap header and fails afterwards.
type failingWriter struct {
	mu     sync.Mutex
	writes int
}

func (f *failingWriter) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.writes++
	if f.writes > 1 {
		return 0, errors.New("disk full")
	}
	return len(p), nil
}

func TestPcapWriteErrors(t *testing.T) {
	// A failing capture must not break traffic (gVisor's sniffer panics
	// on a write error; the stack absorbs it).
	var fw failingWriter
	a, b := pipePair(t, NICConfig{Pcap: &fw}, NICConfig{})
	defer a.Close()
	defer b.Close()
	ap := netip.MustParseAddrPort("192.0.2.2:80")
	stop := listenTCP(t, b, ap)
	defer stop()
	c := dialTCP(t, a, ap)
	roundTrip(t, c, 100000)
	c.Close()
	fw.mu.Lock()
	defer fw.mu.Unlock()
	if fw.writes != 2 {
		t.Fatalf("%d writes; want the header and one failed record, then none", fw.writes)
	}

	// An error writing the header fails the attach.
	c2, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	bad := &failingWriter{writes: 1}
	if _, err := c2.AddLoopback(NICConfig{Pcap: bad}); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("AddLoopback with a failing pcap writer = %v", err)
	}
}

func TestIPProtocol(t *testing.T) {
	tests := []struct {
		b    []byte
		want tcpip.NetworkProtocolNumber
		ok   bool
	}{
		{[]byte{0x45, 0}, ipv4.ProtocolNumber, true},
		{[]byte{0x60, 0}, ipv6.ProtocolNumber, true},
		{[]byte{0x00}, 0, false},
		{[]byte{0xf0}, 0, false},
		{nil, 0, false},
	}
	for _, tt := range tests {
		got, ok := ipProtocol(tt.b)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ipProtocol(% x) = %d, %v; want %d, %v", tt.b, got, ok, tt.want, tt.ok)
		}
	}
}

// TestPipeCloseUnderLoad closes one side of a Pipe while data streams
// from the other.
func TestPipeCloseUnderLoad(t *testing.T) {
	check := testutil.LeakCheck(t)
	a, b := pipePair(t, NICConfig{}, NICConfig{})
	ap := netip.MustParseAddrPort("192.0.2.2:80")
	stop := listenTCP(t, b, ap)
	c := dialTCP(t, a, ap)
	writerDone := writeUntilError(c)
	go io.Copy(io.Discard, c)
	time.Sleep(100 * time.Millisecond)
	b.Close()
	stop()
	if err := <-writerDone; err == nil {
		t.Fatal("writer ended without error")
	}
	c.Close()
	a.Close()
	check()
}
