package main

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ws2go/ws2"
	"github.com/ws2go/ws2/internal/testutil"
	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/provider/lsp/filter"
	"github.com/ws2go/ws2/provider/lsp/trace"
	"github.com/ws2go/ws2/wsa"
)

// TestRegisterLayers installs the trace and filter layers the way
// "ws2d catalog install" does and checks that registerLayers makes them
// serve: the trace records the application's sends, the filter refuses
// what its rules file denies, and an unknown layer path is left alone.
func TestRegisterLayers(t *testing.T) {
	h, err := ws2.NewLoopback()
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	traceID, filterID := wsa.GUID{Data1: 0x7ace}, wsa.GUID{Data1: 0xf11e}
	if err := provider.InstallLayer(h.Catalog, traceID, wsa.GUID{Data1: 0x7ace, Data2: 1}, trace.DefaultPath, "trace", []uint32{1001}); err != nil {
		t.Fatal(err)
	}
	var chainID uint32
	for _, e := range h.Catalog.Entries() {
		if e.Info.IsChain() && e.Info.ProviderId == (wsa.GUID{Data1: 0x7ace, Data2: 1}) {
			chainID = e.Info.CatalogEntryId
		}
	}
	if err := provider.InstallLayer(h.Catalog, filterID, wsa.GUID{Data1: 0xf11e, Data2: 1}, filter.DefaultPath, "filter", []uint32{chainID}); err != nil {
		t.Fatal(err)
	}
	if err := provider.InstallLayer(h.Catalog, wsa.GUID{Data1: 0xbad}, wsa.GUID{Data1: 0xbad, Data2: 1}, "elsewhere/lsp", "other", []uint32{1002}); err != nil {
		t.Fatal(err)
	}
	rules := filepath.Join(t.TempDir(), "rules")
	if err := os.WriteFile(rules, []byte("deny out tcp 127.0.0.0/8 9\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var logged testutil.LockedBuffer
	registerLayers(h.Catalog, rules, slog.New(slog.NewTextHandler(&logged, nil)))
	if _, ok := h.Catalog.Registry().Lookup("elsewhere/lsp"); ok {
		t.Error("registerLayers registered a path it does not carry")
	}

	// Listener and client both on the chain filter over trace over TCP/IP.
	loop := &wsa.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}
	l, err := h.Socket(wsa.AF_INET, wsa.SOCK_STREAM, wsa.IPPROTO_TCP)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Bind(l, loop); err != nil {
		t.Fatal(err)
	}
	if err := h.Listen(l, wsa.SOMAXCONN); err != nil {
		t.Fatal(err)
	}
	addr, _ := h.Getsockname(l)
	c, err := h.Socket(wsa.AF_INET, wsa.SOCK_STREAM, wsa.IPPROTO_TCP)
	if err != nil {
		t.Fatal(err)
	}
	info, err := h.GetsockoptProtocolInfo(c)
	if err != nil || info.ProtocolChain.ChainLen != 3 {
		t.Fatalf("client socket on %q (chain length %d, %v), want the depth-3 chain", info.ProtocolName, info.ProtocolChain.ChainLen, err)
	}
	if err := h.Connect(c, addr); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Send(c, []byte("through the layers"), 0); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logged.String(), "msg=WSPSend") {
		t.Errorf("the trace layer recorded no WSPSend:\n%s", logged.String())
	}
	denied, _ := h.Socket(wsa.AF_INET, wsa.SOCK_STREAM, wsa.IPPROTO_TCP)
	if err := h.Connect(denied, &wsa.SockaddrInet4{Port: 9, Addr: [4]byte{127, 0, 0, 1}}); !errors.Is(err, wsa.WSAEACCES) {
		t.Errorf("connect denied by the rules file: %v, want WSAEACCES", err)
	}
}
