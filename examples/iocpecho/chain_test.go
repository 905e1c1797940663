package main

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"github.com/ws2go/ws2/examples/iocpecho/iocpserver"
	"log/slog"
	"sync"
	"testing"

	"github.com/ws2go/ws2"
	"github.com/ws2go/ws2/provider/lsp/filter"
	"github.com/ws2go/ws2/provider/lsp/trace"
	"github.com/ws2go/ws2/wsa"
)

// TestThroughChain runs the completion-port server (AcceptEx, overlapped
// WSARecv and WSASend on a port, CompletionWorkers) and the event-select
// clients unchanged over a depth-2 protocol chain — trace over filter (with
// rules that deny nothing they do) over netstack — which every socket of
// the program selects: a layered provider that intercepts nothing changes
// nothing the program sees.
func TestThroughChain(t *testing.T) {
	h, err := ws2.NewLoopback()
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	var base []uint32
	for _, p := range h.Catalog.WSCEnumProtocols(nil) {
		base = append(base, p.CatalogEntryId)
	}
	rules, _ := filter.ParseString("deny any any 192.0.2.99\n")
	if _, err := filter.Install(h.Catalog, filter.Config{Rules: rules}, base); err != nil {
		t.Fatal(err)
	}
	var chains []uint32
	for _, p := range h.Catalog.WSCEnumProtocols(nil) {
		if p.ProviderId == filter.ChainGUID {
			chains = append(chains, p.CatalogEntryId)
		}
	}
	var log lockedBuffer
	if _, err := trace.Install(h.Catalog, trace.Config{Handler: slog.NewTextHandler(&log, nil)}, chains); err != nil {
		t.Fatal(err)
	}
	top := h.Catalog.WSCEnumProtocols(nil)[0]
	if top.ProviderId != trace.ChainGUID || top.ProtocolChain.ChainLen != 3 {
		t.Fatalf("first entry %q, chain %v", top.ProtocolName, top.ProtocolChain)
	}

	srv, err := iocpserver.Serve(h.Session, &wsa.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}, 2, 4)
	if err != nil {
		t.Fatal(err)
	}
	addr, _ := srv.Addr()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			msg := make([]byte, 1000+i*20000)
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
	text := log.String()
	for _, want := range []string{"msg=AcceptEx", "msg=WSPEventSelect", "msg=WSPRecv", "msg=WSPSend", "msg=WSPEnumNetworkEvents"} {
		if !bytes.Contains([]byte(text), []byte(want)) {
			t.Errorf("the trace layer did not see %s", want)
		}
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
