package lsp_test

import (
	"testing"

	"github.com/ws2go/ws2"
	"github.com/ws2go/ws2/wsa"
)

// TestFullChainThroughAPI: a Session dispatches through a chain of
// MAX_PROTOCOL_CHAIN entries (six layers that change nothing over
// netstack), and a seventh layer cannot be installed.
func TestFullChainThroughAPI(t *testing.T) {
	h, err := ws2.NewLoopback()
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	var tcp uint32
	for _, p := range h.Catalog.WSCEnumProtocols(nil) {
		if p.AddressFamily == wsa.AF_INET && p.SocketType == wsa.SOCK_STREAM {
			tcp = p.CatalogEntryId
		}
	}
	over := []uint32{tcp}
	for i := range wsa.MAX_PROTOCOL_CHAIN - 1 {
		if err := plainLayer(10+i, i == 2)(h.Catalog, over); err != nil {
			t.Fatalf("layer %d: %v", i+1, err)
		}
		over = []uint32{h.Catalog.WSCEnumProtocols(nil)[0].CatalogEntryId}
	}
	top := h.Catalog.WSCEnumProtocols(nil)[0]
	if top.ProtocolChain.ChainLen != wsa.MAX_PROTOCOL_CHAIN || top.ProtocolChain.ChainEntries[6] != tcp {
		t.Fatalf("top entry chain %v", top.ProtocolChain)
	}
	if err := plainLayer(99, false)(h.Catalog, over); err == nil {
		t.Fatal("an eighth chain entry was installed")
	}

	s := h.Session
	l, err := s.Socket(wsa.AF_INET, wsa.SOCK_STREAM, 0)
	must(t, err)
	must(t, s.Bind(l, &wsa.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}))
	must(t, s.Listen(l, 1))
	to, err := s.Getsockname(l)
	must(t, err)
	c, err := s.Socket(wsa.AF_INET, wsa.SOCK_STREAM, 0)
	must(t, err)
	must(t, s.Connect(c, to))
	a, _, err := s.Accept(l)
	must(t, err)
	if _, err := s.Send(c, []byte("seven"), 0); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 8)
	n, err := s.Recv(a, buf, 0)
	if err != nil || string(buf[:n]) != "seven" {
		t.Fatalf("recv %q %v", buf[:n], err)
	}
	pi := make([]byte, wsa.SizeofProtocolInfo)
	_, err = s.Getsockopt(a, wsa.SOL_SOCKET, wsa.SO_PROTOCOL_INFOW, pi)
	must(t, err)
	if got, _ := wsa.UnmarshalProtocolInfo(pi); got != top {
		t.Errorf("accepted socket's entry %q, want %q", got.ProtocolName, top.ProtocolName)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
