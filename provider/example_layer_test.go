package provider_test

import (
	"fmt"
	"sync/atomic"

	"github.com/ws2go/ws2/api"
	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/provider/netstack"
	"github.com/ws2go/ws2/stack"
	"github.com/ws2go/ws2/wsa"
)

// counter is a layered provider that counts sends and changes nothing else.
type counter struct {
	*provider.PassThrough
	sends *atomic.Int64
}

func (c *counter) WSPSend(s wsa.Socket, bufs [][]byte, flags uint32, ov *wsa.Overlapped,
	cr wsa.CompletionRoutine, tid *provider.ThreadID) (uint32, error) {
	c.sends.Add(1)
	return c.PassThrough.WSPSend(s, bufs, flags, ov, cr, tid)
}

// A layered provider that counts the sends of every TCP/IP socket, over
// the netstack provider.
func ExampleLayer() {
	st, _ := stack.NewLoopback()
	defer st.Close()
	cat := provider.NewCatalog(provider.NewRegistry())
	_ = netstack.Install(cat, netstack.DefaultPath, st) // TCP/IP is entry 1001

	var sends atomic.Int64
	layerGUID := wsa.MustParseGUID("{C0C0C0C0-0000-4000-8000-000000000001}")
	chainGUID := wsa.MustParseGUID("{C0C0C0C0-0000-4000-8000-000000000002}")
	l := &provider.Layer{Catalog: cat, ID: layerGUID, Description: "counter",
		New: func(pt *provider.PassThrough) provider.ProcTable { return &counter{PassThrough: pt, sends: &sends} }}
	_ = cat.Registry().Register("example/counter", l.Startup)
	_ = provider.InstallLayer(cat, layerGUID, chainGUID, "example/counter", "Counter", []uint32{1001})
	fmt.Println("first entry:", cat.WSAEnumProtocols(nil)[0].ProtocolName)

	s, _ := api.WSAStartup(wsa.WINSOCK_VERSION, cat)
	defer s.WSACleanup()
	lst, _ := s.Socket(wsa.AF_INET, wsa.SOCK_STREAM, 0)
	_ = s.Bind(lst, &wsa.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}})
	_ = s.Listen(lst, 1)
	to, _ := s.Getsockname(lst)
	c, _ := s.Socket(wsa.AF_INET, wsa.SOCK_STREAM, 0)
	_ = s.Connect(c, to)
	a, _, _ := s.Accept(lst)
	for range 3 {
		_, _ = s.Send(c, []byte("hi"), 0)
	}
	_, _ = s.Send(a, []byte("bye"), 0)
	fmt.Println("sends seen by the layer:", sends.Load())
	// Output:
	// first entry: Counter over [MSAFD Tcpip [TCP/IP]]
	// sends seen by the layer: 4
}
