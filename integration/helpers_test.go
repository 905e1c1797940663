package integration

import (
	"errors"
	"net/netip"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/ws2go/ws2/api"
	"github.com/ws2go/ws2/internal/testutil"
	"github.com/ws2go/ws2/wsa"
)

// stepTimeout bounds every blocking step of a test.
const stepTimeout = 20 * time.Second

// binEnv carries the path of the ws2d binary that the parent test process
// built (testutil.BuildOnce, called before netns.Enter) into the children
// netns.Enter starts, so that they do not build it again (and never build
// inside a namespace).
const binEnv = "WS2_INTEGRATION_WS2D"

// TestMain removes the ws2d binary the tests built.
func TestMain(m *testing.M) {
	code := m.Run()
	testutil.Cleanup()
	os.Exit(code)
}

// apiEcho is a minimal echo service (TCP and UDP) on a Winsock session,
// written with the api calls only, for the in-process tests.
type apiEcho struct {
	ws    *api.Session
	mu    sync.Mutex
	socks map[wsa.Socket]bool
	done  bool
	wg    sync.WaitGroup
}

// startAPIEcho serves echo on each of addrs (TCP and UDP) until the test
// ends.
func startAPIEcho(t *testing.T, ws *api.Session, addrs ...netip.AddrPort) {
	t.Helper()
	e := &apiEcho{ws: ws, socks: make(map[wsa.Socket]bool)}
	t.Cleanup(e.close)
	for _, ap := range addrs {
		af := int32(wsa.AF_INET)
		if ap.Addr().Is6() {
			af = wsa.AF_INET6
		}
		ls, err := ws.Socket(af, wsa.SOCK_STREAM, wsa.IPPROTO_TCP)
		if err != nil {
			t.Fatalf("echo: socket: %v", err)
		}
		e.track(ls)
		if err := ws.Bind(ls, wsa.SockaddrFromAddrPort(ap)); err != nil {
			t.Fatalf("echo: bind tcp %v: %v", ap, err)
		}
		if err := ws.Listen(ls, wsa.SOMAXCONN); err != nil {
			t.Fatalf("echo: listen %v: %v", ap, err)
		}
		us, err := ws.Socket(af, wsa.SOCK_DGRAM, wsa.IPPROTO_UDP)
		if err != nil {
			t.Fatalf("echo: socket: %v", err)
		}
		e.track(us)
		if err := ws.Bind(us, wsa.SockaddrFromAddrPort(ap)); err != nil {
			t.Fatalf("echo: bind udp %v: %v", ap, err)
		}
		e.wg.Add(2)
		go e.accept(ls)
		go e.udp(us)
	}
}

// track records s as open, to be closed by close.
func (e *apiEcho) track(s wsa.Socket) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.socks[s] = true
}

// untrack closes s unless close already has.
func (e *apiEcho) untrack(s wsa.Socket) {
	e.mu.Lock()
	mine := e.socks[s]
	delete(e.socks, s)
	e.mu.Unlock()
	if mine {
		e.ws.Closesocket(s)
	}
}

func (e *apiEcho) close() {
	e.mu.Lock()
	e.done = true
	socks := e.socks
	e.socks = nil
	e.mu.Unlock()
	for s := range socks {
		e.ws.Closesocket(s)
	}
	e.wg.Wait()
}

func (e *apiEcho) accept(ls wsa.Socket) {
	defer e.wg.Done()
	for {
		s, _, err := e.ws.Accept(ls)
		if err != nil {
			if errors.Is(err, wsa.WSAECONNRESET) || errors.Is(err, wsa.WSAECONNABORTED) {
				continue
			}
			return
		}
		e.mu.Lock()
		if e.done {
			e.mu.Unlock()
			e.ws.Closesocket(s)
			return
		}
		e.socks[s] = true
		e.wg.Add(1)
		e.mu.Unlock()
		go func() {
			defer e.wg.Done()
			defer e.untrack(s)
			buf := make([]byte, 32<<10)
			for {
				n, err := e.ws.Recv(s, buf, 0)
				if err != nil {
					return
				}
				if n == 0 {
					e.ws.Shutdown(s, wsa.SD_SEND)
					return
				}
				for b := buf[:n]; len(b) > 0; {
					m, err := e.ws.Send(s, b, 0)
					if err != nil {
						return
					}
					b = b[m:]
				}
			}
		}()
	}
}

func (e *apiEcho) udp(s wsa.Socket) {
	defer e.wg.Done()
	buf := make([]byte, 64<<10)
	for {
		n, from, err := e.ws.Recvfrom(s, buf, 0)
		if err != nil {
			if errors.Is(err, wsa.WSAECONNRESET) || errors.Is(err, wsa.WSAEMSGSIZE) {
				continue
			}
			return
		}
		e.ws.Sendto(s, buf[:n], 0, from)
	}
}

// closeAfter closes s after d unless the returned stop is called first:
// a blocked call on s then returns instead of hanging the test.
func closeAfter(ws *api.Session, s wsa.Socket, d time.Duration) (stop func() bool) {
	tm := time.AfterFunc(d, func() { ws.Closesocket(s) })
	return tm.Stop
}
