package api_test

import (
	"errors"
	"fmt"

	"github.com/ws2go/ws2/api"
	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/wsa"
)

// A TCP exchange over a Session. The provider here is the in-memory fake of
// the api tests; a program uses the netstack provider's catalog instead.
func Example() {
	reg := provider.NewRegistry()
	fake := newFakeProvider("fake")
	_ = reg.Register("fake", fake.startup)
	catalog := provider.NewCatalog(reg)
	_ = catalog.WSCInstallProvider(wsa.GUID{Data1: 1}, "fake", []wsa.ProtocolInfo{
		entry("TCP/IP", wsa.AF_INET, wsa.SOCK_STREAM, wsa.IPPROTO_TCP, wsa.PFL_MATCHES_PROTOCOL_ZERO),
	})

	s, err := api.WSAStartup(wsa.MAKEWORD(2, 2), catalog)
	if err != nil {
		fmt.Println("WSAStartup:", err)
		return
	}
	defer s.WSACleanup()
	fmt.Printf("%s, version %d.%d\n", s.WSAData().Description, wsa.LOBYTE(s.WSAData().Version), wsa.HIBYTE(s.WSAData().Version))

	l, _ := s.Socket(wsa.AF_INET, wsa.SOCK_STREAM, wsa.IPPROTO_TCP)
	_ = s.Bind(l, &wsa.SockaddrInet4{Port: 7, Addr: [4]byte{127, 0, 0, 1}})
	_ = s.Listen(l, wsa.SOMAXCONN)

	c, _ := s.Socket(wsa.AF_INET, wsa.SOCK_STREAM, 0)
	_ = s.Connect(c, &wsa.SockaddrInet4{Port: 7, Addr: [4]byte{127, 0, 0, 1}})
	srv, peer, _ := s.Accept(l)
	fmt.Println("accepted from", wsa.FormatSockaddr(peer))

	_, _ = s.Send(c, []byte("hello"), 0)
	buf := make([]byte, 16)
	n, _ := s.Recv(srv, buf, 0)
	fmt.Printf("received %q\n", buf[:n])

	var nb uint32 = 1
	_ = s.Ioctlsocket(srv, wsa.FIONBIO, &nb)
	if _, err := s.Recv(srv, buf, 0); errors.Is(err, wsa.WSAEWOULDBLOCK) {
		fmt.Println("nothing more:", err.(wsa.Errno).Name())
	}

	_ = s.Closesocket(c)
	_ = s.Closesocket(srv)
	_ = s.Closesocket(l)
	if err := s.Listen(l, 1); err != nil {
		fmt.Println("after close:", err.(wsa.Errno).Name())
	}
	// Output:
	// WinSock 2.0, version 2.2
	// accepted from 127.0.0.1:50000
	// received "hello"
	// nothing more: WSAEWOULDBLOCK
	// after close: WSAENOTSOCK
}
