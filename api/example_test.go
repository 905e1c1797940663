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

// An I/O completion port serving one connection, as a Windows server does
// it: associate the socket with the port under a key, post an overlapped
// receive, and handle completions in a GetQueuedCompletionStatus loop — here
// through a CompletionWorker, so the port's concurrency value (1) applies.
// A failed operation comes out of the port with its Win32 code, and
// WSAGetOverlappedResult gives its WSAE* code: for a cancelled operation
// both are 995; for a reset they would be ERROR_NETNAME_DELETED (64) and
// WSAECONNRESET. The provider is the in-memory fake of the api tests.
func Example_completionPort() {
	env, _ := makeIOEnv()
	s, _ := api.WSAStartup(wsa.MAKEWORD(2, 2), env.cat)
	defer s.WSACleanup()

	addr := &wsa.SockaddrInet4{Port: 7, Addr: [4]byte{127, 0, 0, 1}}
	l, _ := s.Socket(wsa.AF_INET, wsa.SOCK_STREAM, wsa.IPPROTO_TCP)
	_ = s.Bind(l, addr)
	_ = s.Listen(l, wsa.SOMAXCONN)
	client, _ := s.Socket(wsa.AF_INET, wsa.SOCK_STREAM, wsa.IPPROTO_TCP)
	_ = s.Connect(client, addr)
	conn, _, _ := s.Accept(l)

	// CreateIoCompletionPort(INVALID_HANDLE_VALUE, NULL, 0, 1), then
	// CreateIoCompletionPort((HANDLE)conn, port, key, 0).
	port, _ := s.CreateIoCompletionPort(api.INVALID_HANDLE_VALUE, 0, 0, 1)
	const connKey = 1
	if _, err := s.CreateIoCompletionPort(wsa.Handle(conn), port, connKey, 0); err != nil {
		fmt.Println("CreateIoCompletionPort:", err)
		return
	}
	worker, _ := s.NewCompletionWorker(port)
	defer worker.Release()

	var recvOv, sendOv wsa.Overlapped
	buf := make([]byte, 64)
	var flags uint32
	if err := s.WSARecv(conn, [][]byte{buf}, nil, &flags, &recvOv, nil); err != wsa.WSA_IO_PENDING {
		fmt.Println("WSARecv:", err)
		return
	}
	_, _ = s.Send(client, []byte("hello"), 0)

	for done := false; !done; {
		var n uint32
		var key uintptr
		var ov *wsa.Overlapped
		err := worker.GetQueuedCompletionStatus(&n, &key, &ov, wsa.WSA_INFINITE)
		switch {
		case ov == nil:
			fmt.Println("GetQueuedCompletionStatus:", err)
			return
		case err != nil:
			fmt.Printf("key %d: failed with %d\n", key, err)
		case ov == &recvOv:
			fmt.Printf("key %d: received %q\n", key, buf[:n])
			// Echo it. The send completes at once and still posts a packet.
			_ = s.WSASend(conn, [][]byte{buf[:n]}, nil, 0, &sendOv, nil)
		case ov == &sendOv:
			fmt.Printf("key %d: sent %d bytes\n", key, n)
			done = true
		}
	}
	echo := make([]byte, 64)
	n, _ := s.Recv(client, echo, 0)
	fmt.Printf("client got %q\n", echo[:n])

	// A receive cancelled while pending is dequeued as failed.
	_ = s.WSARecv(conn, [][]byte{buf}, nil, &flags, &recvOv, nil)
	_ = s.CancelIoEx(conn, &recvOv)
	var n32 uint32
	var key uintptr
	var ov *wsa.Overlapped
	err := worker.GetQueuedCompletionStatus(&n32, &key, &ov, wsa.WSA_INFINITE)
	fmt.Printf("key %d: GetQueuedCompletionStatus: %d (ov is recvOv: %v)\n", key, err, ov == &recvOv)
	fmt.Println("WSAGetOverlappedResult:", s.WSAGetOverlappedResult(conn, &recvOv, &n32, false, &flags).(wsa.Errno).Name())
	// Output:
	// key 1: received "hello"
	// key 1: sent 5 bytes
	// client got "hello"
	// key 1: GetQueuedCompletionStatus: 995 (ov is recvOv: true)
	// WSAGetOverlappedResult: WSA_OPERATION_ABORTED
}
