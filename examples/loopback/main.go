// Command loopback is the README's embedded example: a Winsock echo over
// a private in-process stack, with no root and no TUN.
package main

import (
	"fmt"
	"log"

	"github.com/ws2go/ws2"
	"github.com/ws2go/ws2/wsa"
)

func main() {
	h, err := ws2.NewLoopback() // WSAStartup on a fresh in-process stack
	if err != nil {
		log.Fatal(err)
	}
	defer h.Close() // WSACleanup, then the stack stops

	// A listening TCP socket on 127.0.0.1, port chosen by the stack.
	l, err := h.Socket(wsa.AF_INET, wsa.SOCK_STREAM, wsa.IPPROTO_TCP)
	if err != nil {
		log.Fatal(err)
	}
	if err := h.Bind(l, &wsa.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		log.Fatal(err)
	}
	if err := h.Listen(l, wsa.SOMAXCONN); err != nil {
		log.Fatal(err)
	}
	addr, _ := h.Getsockname(l)

	go func() { // echo one connection
		c, _, err := h.Accept(l)
		if err != nil {
			return
		}
		defer h.Closesocket(c)
		buf := make([]byte, 512)
		for {
			n, err := h.Recv(c, buf, 0)
			if err != nil || n == 0 {
				return
			}
			h.Send(c, buf[:n], 0)
		}
	}()

	c, _ := h.Socket(wsa.AF_INET, wsa.SOCK_STREAM, wsa.IPPROTO_TCP)
	if err := h.Connect(c, addr); err != nil {
		log.Fatal(err)
	}
	h.Send(c, []byte("hello, winsock"), 0)
	buf := make([]byte, 64)
	n, _ := h.Recv(c, buf, 0)
	fmt.Printf("%s\n", buf[:n])

	// Errors are the WSAE* codes Windows gives.
	var nb uint32 = 1
	h.Ioctlsocket(c, wsa.FIONBIO, &nb)
	if _, err := h.Recv(c, buf, 0); err == wsa.WSAEWOULDBLOCK {
		fmt.Println(err) // A non-blocking socket operation could not be completed immediately.
	}
}
