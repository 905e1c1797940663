// Command iocpecho shows two Winsock programs a Windows programmer knows, on
// a private in-process stack: an echo server built on a completion port with
// AcceptEx and worker goroutines (package iocpserver), and a client built on
// WSAEventSelect (client.go). It runs a few clients against the server and
// prints what came back.
package main

import (
	"bytes"
	"fmt"
	"github.com/ws2go/ws2/examples/iocpecho/iocpserver"
	"log"

	"github.com/ws2go/ws2"
	"github.com/ws2go/ws2/wsa"
)

func main() {
	h, err := ws2.NewLoopback()
	if err != nil {
		log.Fatal(err)
	}
	defer h.Close()

	srv, err := iocpserver.Serve(h.Session, &wsa.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}, 2, 4)
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	addr, _ := srv.Addr()

	for i := range 3 {
		msg := bytes.Repeat([]byte{'a' + byte(i)}, 100000*(i+1))
		got, err := EventSelectClient(h.Session, addr, msg)
		if err != nil {
			log.Fatalf("client %d: %v", i, err)
		}
		fmt.Printf("client %d: sent %d bytes, echo identical: %v\n", i, len(msg), bytes.Equal(got, msg))
	}
}
