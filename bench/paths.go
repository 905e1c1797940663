// Package bench measures ws2 against raw gVisor and the kernel (issue 5).
//
// Every workload is written once against [Env], a tiny dial/listen
// interface, with one adapter per path:
//
//   - api-netstack: the api over the netstack provider over an in-memory
//     pipe between two stacks (ws2.NewPipe), reached through wsnet
//     (net.Conn over a Session), so wsnet's overlapped-I/O adapter is part
//     of the cost;
//   - api-netstack-native (bulk only): the same link driven by blocking
//     Send/Recv on the Session, the api's own cost without wsnet;
//   - gonet: raw gVisor gonet over the same kind of pipe (stack.Pipe);
//   - api-host: the api over the host provider on kernel loopback, through
//     wsnet; api-host-native (bulk only) with blocking Send/Recv;
//   - net: Go's net on kernel loopback;
//   - api-netstack-iocp and api-netstack-goroutines (EchoMany only): the
//     api over a netstack pipe serving echo with a completion port and
//     AcceptEx, and with one goroutine per connection (the baseline);
//   - tun-water and tun-offload: the api over netstack (through wsnet) on a
//     TUN device, opened with water or with the offload driver, whose
//     kernel side is in a network namespace the suite creates, against Go's
//     net on that kernel side, in both directions (k2w: kernel client, ws2
//     server; w2k: the reverse);
//   - veth: Go's net in two namespaces joined by a veth pair, in the same
//     two shapes (the baseline of the TUN paths).
//
// Traffic stays in in-process pipes, on 127.0.0.1, and inside the
// namespaces the suite creates (tunenv_linux.go), which are gone once the
// benchmark closes its Env. The same [Cases] feed the go test benchmarks
// (bench_test.go) and the runner (cmd/ws2bench).
package bench

import (
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/ws2go/ws2"
	"github.com/ws2go/ws2/api"
	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/provider/host"
	"github.com/ws2go/ws2/stack"
	"github.com/ws2go/ws2/wsa"
	"github.com/ws2go/ws2/wsnet"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
)

// Env is one path set up for a workload: a server side and a client side
// (two stacks joined by a pipe, or one kernel).
type Env interface {
	ListenTCP() (net.Listener, error)
	DialTCP(addr net.Addr) (net.Conn, error)
	ListenUDP() (net.PacketConn, error)
	DialUDP(addr net.Addr) (net.Conn, error)
	Close() error
}

// Path names.
const (
	PathAPINetstack       = "api-netstack"
	PathAPINetstackNative = "api-netstack-native"
	PathGonet             = "gonet"
	PathAPIHost           = "api-host"
	PathAPIHostNative     = "api-host-native"
	PathNet               = "net"
	// EchoMany only: the api over a netstack pipe with the IOCP+AcceptEx
	// echo server, and with the goroutine-per-connection one (baseline).
	PathAPINetstackIOCP       = "api-netstack-iocp"
	PathAPINetstackGoroutines = "api-netstack-goroutines"
)

// Baselines are the paths others are compared with: raw gVisor and Go's
// net on loopback for the pipe and loopback paths, the goroutine server for
// EchoMany, and the veth pair for the TUN paths.
var Baselines = []string{PathGonet, PathNet, PathAPINetstackGoroutines, PathVeth}

// pipeEnv is the api over netstack over ws2.NewPipe: clients on a, servers
// on b.
type pipeEnv struct{ a, b *ws2.Host }

func newPipeEnv(mtu uint32) (*pipeEnv, error) {
	a, b, err := ws2.NewPipe(mtu)
	if err != nil {
		return nil, err
	}
	return &pipeEnv{a, b}, nil
}

func (e *pipeEnv) serverAddr() string { return ws2.PipeAddrB[0].Addr().String() }

func (e *pipeEnv) ListenTCP() (net.Listener, error) {
	return wsnet.Listen(e.b.Session, "tcp4", e.serverAddr()+":0")
}
func (e *pipeEnv) DialTCP(addr net.Addr) (net.Conn, error) {
	return wsnet.Dial(e.a.Session, "tcp4", addr.String())
}
func (e *pipeEnv) ListenUDP() (net.PacketConn, error) {
	return wsnet.ListenPacket(e.b.Session, "udp4", e.serverAddr()+":0")
}
func (e *pipeEnv) DialUDP(addr net.Addr) (net.Conn, error) {
	return wsnet.Dial(e.a.Session, "udp4", addr.String())
}
func (e *pipeEnv) Close() error { return errors.Join(e.a.Close(), e.b.Close()) }

// gonetEnv is raw gVisor over stack.Pipe: clients on a, servers on b.
type gonetEnv struct{ a, b *stack.Stack }

var (
	gonetAddrA = netip.MustParsePrefix("198.18.0.1/24")
	gonetAddrB = netip.MustParsePrefix("198.18.0.2/24")
)

func newGonetEnv(mtu uint32) (*gonetEnv, error) {
	a, err := stack.New(stack.Options{})
	if err != nil {
		return nil, err
	}
	b, err := stack.New(stack.Options{})
	if err != nil {
		a.Close()
		return nil, err
	}
	if _, _, err := stack.Pipe(a, b, mtu, stack.NICConfig{Name: "pipe0", Addrs: []netip.Prefix{gonetAddrA}}, stack.NICConfig{Name: "pipe0", Addrs: []netip.Prefix{gonetAddrB}}); err != nil {
		a.Close()
		b.Close()
		return nil, err
	}
	return &gonetEnv{a, b}, nil
}

func fullAddr(addr net.Addr) tcpip.FullAddress {
	ap, _ := netip.ParseAddrPort(addr.String())
	return tcpip.FullAddress{Addr: tcpip.AddrFromSlice(ap.Addr().AsSlice()), Port: ap.Port()}
}

func (e *gonetEnv) ListenTCP() (net.Listener, error) {
	return gonet.ListenTCP(e.b.GVisor(), tcpip.FullAddress{Addr: tcpip.AddrFromSlice(gonetAddrB.Addr().AsSlice())}, ipv4.ProtocolNumber)
}
func (e *gonetEnv) DialTCP(addr net.Addr) (net.Conn, error) {
	return gonet.DialTCP(e.a.GVisor(), fullAddr(addr), ipv4.ProtocolNumber)
}
func (e *gonetEnv) ListenUDP() (net.PacketConn, error) {
	return gonet.DialUDP(e.b.GVisor(), &tcpip.FullAddress{Addr: tcpip.AddrFromSlice(gonetAddrB.Addr().AsSlice())}, nil, ipv4.ProtocolNumber)
}
func (e *gonetEnv) DialUDP(addr net.Addr) (net.Conn, error) {
	ra := fullAddr(addr)
	return gonet.DialUDP(e.a.GVisor(), nil, &ra, ipv4.ProtocolNumber)
}
func (e *gonetEnv) Close() error { e.a.Close(); e.b.Close(); return nil }

// hostEnv is the api over the host provider on kernel loopback.
type hostEnv struct{ s *api.Session }

func newHostSession() (*api.Session, error) {
	cat := provider.NewCatalog(provider.NewRegistry())
	if err := host.Install(cat, host.DefaultPath); err != nil {
		return nil, err
	}
	return api.WSAStartup(wsa.WINSOCK_VERSION, cat)
}

func newHostEnv() (*hostEnv, error) {
	s, err := newHostSession()
	if err != nil {
		return nil, err
	}
	return &hostEnv{s}, nil
}

func (e *hostEnv) ListenTCP() (net.Listener, error) { return wsnet.Listen(e.s, "tcp4", "127.0.0.1:0") }
func (e *hostEnv) DialTCP(addr net.Addr) (net.Conn, error) {
	return wsnet.Dial(e.s, "tcp4", addr.String())
}
func (e *hostEnv) ListenUDP() (net.PacketConn, error) {
	return wsnet.ListenPacket(e.s, "udp4", "127.0.0.1:0")
}
func (e *hostEnv) DialUDP(addr net.Addr) (net.Conn, error) {
	return wsnet.Dial(e.s, "udp4", addr.String())
}
func (e *hostEnv) Close() error { return e.s.WSACleanup() }

// netEnv is Go's net on kernel loopback.
type netEnv struct{}

func (netEnv) ListenTCP() (net.Listener, error)        { return net.Listen("tcp4", "127.0.0.1:0") }
func (netEnv) DialTCP(addr net.Addr) (net.Conn, error) { return net.Dial("tcp4", addr.String()) }
func (netEnv) ListenUDP() (net.PacketConn, error)      { return net.ListenPacket("udp4", "127.0.0.1:0") }
func (netEnv) DialUDP(addr net.Addr) (net.Conn, error) { return net.Dial("udp4", addr.String()) }
func (netEnv) Close() error                            { return nil }

// NewEnv sets up path (one of the wsnet-style paths: api-netstack, gonet,
// api-host, net) with the pipe MTU (ignored by the kernel paths).
func NewEnv(path string, mtu uint32) (Env, error) {
	switch path {
	case PathAPINetstack:
		return newPipeEnv(mtu)
	case PathGonet:
		return newGonetEnv(mtu)
	case PathAPIHost:
		return newHostEnv()
	case PathNet:
		return netEnv{}, nil
	}
	return nil, fmt.Errorf("bench: unknown path %q", path)
}
