package trace_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/ws2go/ws2/api"
	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/provider/lsp/trace"
	"github.com/ws2go/ws2/provider/netstack"
	"github.com/ws2go/ws2/stack"
	"github.com/ws2go/ws2/wsa"
)

// records keeps every record with its attributes.
type records struct {
	mu   sync.Mutex
	recs []rec
}

type rec struct {
	msg   string
	attrs map[string]slog.Value
}

func (r *records) Enabled(context.Context, slog.Level) bool { return true }
func (r *records) Handle(_ context.Context, x slog.Record) error {
	a := map[string]slog.Value{}
	x.Attrs(func(at slog.Attr) bool { a[at.Key] = at.Value; return true })
	r.mu.Lock()
	r.recs = append(r.recs, rec{x.Message, a})
	r.mu.Unlock()
	return nil
}
func (r *records) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *records) WithGroup(string) slog.Handler      { return r }

func (r *records) find(msg string, s wsa.Socket) []rec {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []rec
	for _, x := range r.recs {
		if x.msg == msg && (s == 0 || x.attrs["socket"].Uint64() == uint64(s)) {
			out = append(out, x)
		}
	}
	return out
}

// session starts a Session over netstack on a loopback stack with the
// tracer installed over every base entry.
func session(t *testing.T, h slog.Handler) (*api.Session, *provider.Catalog) {
	t.Helper()
	st, err := stack.NewLoopback()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	cat := provider.NewCatalog(provider.NewRegistry())
	if err := netstack.Install(cat, netstack.DefaultPath, st); err != nil {
		t.Fatal(err)
	}
	var over []uint32
	for _, p := range cat.WSCEnumProtocols(nil) {
		over = append(over, p.CatalogEntryId)
	}
	if _, err := trace.Install(cat, trace.Config{Handler: h}, over); err != nil {
		t.Fatal(err)
	}
	s, err := api.WSAStartup(wsa.WINSOCK_VERSION, cat)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.WSACleanup() })
	return s, cat
}

// TestSessionDispatchesThroughTrace: with the chains first in the catalog,
// the application's calls reach the trace layer, on the application's own
// handles.
func TestSessionDispatchesThroughTrace(t *testing.T) {
	r := &records{}
	s, cat := session(t, r)
	addr := &wsa.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}
	l, err := s.Socket(wsa.AF_INET, wsa.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	must(t, s.Bind(l, addr))
	must(t, s.Listen(l, wsa.SOMAXCONN))
	name, err := s.Getsockname(l)
	must(t, err)
	c, err := s.Socket(wsa.AF_INET, wsa.SOCK_STREAM, 0)
	must(t, err)
	must(t, s.Connect(c, name))
	a, peer, err := s.Accept(l)
	must(t, err)
	if _, err := s.Send(c, []byte("hello"), 0); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 16)
	n, err := s.Recv(a, buf, 0)
	if err != nil || string(buf[:n]) != "hello" {
		t.Fatalf("recv %q %v", buf[:n], err)
	}

	sends := r.find("WSPSend", c)
	if len(sends) != 1 || sends[0].attrs["bytes"].Int64() != 5 || sends[0].attrs["n"].Uint64() != 5 {
		t.Fatalf("WSPSend records %+v", sends)
	}
	if _, ok := sends[0].attrs["dur"]; !ok {
		t.Error("no duration")
	}
	if recs := r.find("WSPConnect", c); len(recs) != 1 || recs[0].attrs["name"].String() != wsa.FormatSockaddr(name) {
		t.Errorf("WSPConnect records %+v", recs)
	}
	if recs := r.find("WSPAccept", l); len(recs) != 1 || recs[0].attrs["new"].Uint64() != uint64(a) || recs[0].attrs["peer"].String() != wsa.FormatSockaddr(peer) {
		t.Errorf("WSPAccept records %+v", recs)
	}
	if recs := r.find("WSPRecv", a); len(recs) != 1 || recs[0].attrs["n"].Uint64() != 5 {
		t.Errorf("WSPRecv records %+v", recs)
	}
	socks := r.find("WSPSocket", 0)
	if len(socks) != 2 {
		t.Fatalf("WSPSocket records %+v", socks)
	}
	top := cat.WSCEnumProtocols(nil)[0]
	if socks[0].attrs["entry"].Uint64() != uint64(top.CatalogEntryId) {
		t.Errorf("WSPSocket on entry %v, want the chain %d", socks[0].attrs["entry"], top.CatalogEntryId)
	}
	// A failing call logs its error.
	if _, err := s.Recv(wsa.Socket(l), buf, 0); err == nil {
		t.Fatal("recv on a listening socket succeeded")
	}
	if recs := r.find("WSPRecv", l); len(recs) != 1 || recs[0].attrs["err"].String() != "WSAENOTCONN" {
		t.Errorf("failed WSPRecv records %+v", recs)
	}
	// The socket reports the chain entry it was made for.
	pi := make([]byte, wsa.SizeofProtocolInfo)
	if _, err := s.Getsockopt(c, wsa.SOL_SOCKET, wsa.SO_PROTOCOL_INFOW, pi); err != nil {
		t.Fatal(err)
	}
	if got, _ := wsa.UnmarshalProtocolInfo(pi); got != top {
		t.Errorf("SO_PROTOCOL_INFOW: %q, want %q", got.ProtocolName, top.ProtocolName)
	}
	must(t, s.Closesocket(c))
	if recs := r.find("WSPCloseSocket", c); len(recs) != 1 {
		t.Errorf("WSPCloseSocket records %+v", recs)
	}
}

// TestTextHandler: the records read well through slog's text handler, and a
// level below the handler's makes the layer silent.
func TestTextHandler(t *testing.T) {
	var out bytes.Buffer
	h := slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelInfo})
	var mu sync.Mutex
	s, _ := session(t, lockedHandler{h, &mu})
	u, err := s.Socket(wsa.AF_INET6, wsa.SOCK_DGRAM, 0)
	must(t, err)
	must(t, s.Bind(u, &wsa.SockaddrInet6{Addr: [16]byte{15: 1}}))
	to, _ := s.Getsockname(u)
	if _, err := s.Sendto(u, []byte("dgram"), 0, to); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	text := out.String()
	mu.Unlock()
	for _, want := range []string{"msg=WSPSendTo", "bytes=5", "to=[::1]:", "msg=WSPBind", "dur="} {
		if !strings.Contains(text, want) {
			t.Errorf("log lacks %q:\n%s", want, text)
		}
	}

	var quiet bytes.Buffer
	s2, _ := session(t, slog.NewTextHandler(&quiet, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if _, err := s2.Socket(wsa.AF_INET, wsa.SOCK_STREAM, 0); err != nil {
		t.Fatal(err)
	}
	if quiet.Len() != 0 {
		t.Errorf("records below the handler's level: %s", quiet.String())
	}
}

type lockedHandler struct {
	slog.Handler
	mu *sync.Mutex
}

func (h lockedHandler) Handle(ctx context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.Handler.Handle(ctx, r)
}

func TestInstallErrors(t *testing.T) {
	cat := provider.NewCatalog(provider.NewRegistry())
	if _, err := trace.Install(cat, trace.Config{}, []uint32{4242}); err == nil {
		t.Fatal("install over an unknown entry succeeded")
	}
	if _, ok := cat.Registry().Lookup(trace.DefaultPath); ok {
		t.Error("a failed Install left the path registered")
	}
	if _, err := trace.Register(cat, trace.Config{}); err != nil {
		t.Fatal(err)
	}
	if _, err := trace.Register(cat, trace.Config{}); err == nil {
		t.Error("a second Register under the same path succeeded")
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
