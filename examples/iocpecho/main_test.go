package main

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"github.com/ws2go/ws2/examples/iocpecho/iocpserver"
	"io"
	"os"
	"sync"
	"testing"

	"github.com/ws2go/ws2"
	"github.com/ws2go/ws2/wsa"
)

func TestProgram(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stdout
	os.Stdout = w
	main()
	os.Stdout = old
	w.Close()
	out, _ := io.ReadAll(r)
	want := "client 0: sent 100000 bytes, echo identical: true\n" +
		"client 1: sent 200000 bytes, echo identical: true\n" +
		"client 2: sent 300000 bytes, echo identical: true\n"
	if string(out) != want {
		t.Fatalf("printed %q, want %q", out, want)
	}
}

// TestManyClients runs 32 event-select clients at once against the IOCP
// server (more than its pending AcceptEx count).
func TestManyClients(t *testing.T) {
	h, err := ws2.NewLoopback()
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	srv, err := iocpserver.Serve(h.Session, &wsa.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}, 2, 4)
	if err != nil {
		t.Fatal(err)
	}
	addr, _ := srv.Addr()
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for i := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			msg := make([]byte, 1000+i*3000)
			rand.Read(msg)
			got, err := EventSelectClient(h.Session, addr, msg)
			if err == nil && !bytes.Equal(got, msg) {
				err = fmt.Errorf("client %d: echo differs (%d of %d bytes)", i, len(got), len(msg))
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	srv.Close()
	// After Close the port is gone and the listening socket closed.
	if _, err := srv.Addr(); err != wsa.WSAENOTSOCK {
		t.Errorf("Getsockname after Close: %v, want WSAENOTSOCK", err)
	}
}
