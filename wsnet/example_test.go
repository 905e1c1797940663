package wsnet_test

import (
	"fmt"
	"io"
	"log"
	"net/http"

	ws2 "github.com/ws2go/ws2"
	"github.com/ws2go/ws2/wsnet"
)

// An HTTP server and client talking over a userspace loopback host: the
// server accepts with AcceptEx, the client dials with ConnectEx, and every
// byte goes through overlapped WSARecv and WSASend on gVisor.
func Example() {
	host, err := ws2.NewLoopback()
	if err != nil {
		log.Fatal(err)
	}
	defer host.Close()

	ln, err := wsnet.Listen(host.Session, "tcp", "127.0.0.1:8080")
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello %s from the userspace stack", r.RemoteAddr[:len("127.0.0.1")])
	})}
	go srv.Serve(ln)
	defer srv.Close()

	dialer := &wsnet.Dialer{Session: host.Session}
	tr := &http.Transport{DialContext: dialer.DialContext}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	resp, err := client.Get("http://127.0.0.1:8080/")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.Status, string(body))
	// Output: 200 OK hello 127.0.0.1 from the userspace stack
}
