package bench

import (
	"fmt"
	"github.com/ws2go/ws2/examples/iocpecho/iocpserver"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/ws2go/ws2"
	"github.com/ws2go/ws2/api"
	"github.com/ws2go/ws2/wsa"
)

// IdleInterval is how long the Idle workload leaves its connections idle
// while it measures CPU time.
const IdleInterval = time.Second

// Idle is the idle-connections workload: conns TCP connections over env
// (both ends in this process), then nothing for IdleInterval. It reports
// KiB/conn, the Go heap growth (runtime.ReadMemStats after a GC, before and
// after connecting) divided by conns, both ends of a connection counting as
// one connection, and idle-cpu-ms, the process's user+system CPU time
// (getrusage) during the idle interval. One op is the whole measurement:
// the runner runs it once, and each call of the benchmark function
// measures once whatever b.N.
func Idle(b *testing.B, env Env, conns int) {
	cpu0 := cpuTime()
	runtime.GC()
	var m0 runtime.MemStats
	runtime.ReadMemStats(&m0)
	clients, servers, err := envPairs(env, conns)
	defer closeStreams(clients, servers)
	if err != nil {
		fatalf(b, "after %d connections: %v", len(clients), err)
	}
	runtime.GC()
	var m1 runtime.MemStats
	runtime.ReadMemStats(&m1)
	c0 := cpuTime()
	time.Sleep(IdleInterval)
	c1 := cpuTime()
	runtime.KeepAlive(clients)
	runtime.KeepAlive(servers)
	b.ReportMetric((float64(m1.HeapAlloc)-float64(m0.HeapAlloc))/float64(conns)/1024, "KiB/conn")
	b.ReportMetric((c1-c0)*1e3, "idle-cpu-ms")
	reportCPU(b, cpu0, 1) // one measurement whatever b.N: connecting and the idle second
}

// EchoSize is the message size of the EchoMany workload.
const EchoSize = 64

// Servers of the EchoMany workload.
const (
	EchoIOCP       = "iocp"
	EchoGoroutines = "goroutines"
)

// echoServer is a running echo server on a Session.
type echoServer interface {
	addr() (wsa.Sockaddr, error)
	// served is how many connections the server has taken on so far.
	served() int
	close()
}

// waitServed waits (at most 10 s) until srv has taken on n connections, so
// that their setup is not timed.
func waitServed(srv echoServer, n int) error {
	for t0 := time.Now(); srv.served() < n; time.Sleep(time.Millisecond) {
		if time.Since(t0) > 10*time.Second {
			return fmt.Errorf("bench: the echo server took on %d of %d connections", srv.served(), n)
		}
	}
	return nil
}

// EchoMany is the many-connection echo workload over the api on a pipe
// between two netstack hosts (MTU 1500): conns connections, clients on one
// host each doing blocking Send/Recv of EchoSize bytes in its own
// goroutine, the server (kind EchoIOCP or EchoGoroutines) on the other. The
// b.N request/response exchanges are spread over the connections. Reports
// req/s.
func EchoMany(b *testing.B, kind string, conns int) {
	a, h, err := ws2.NewPipe(1500)
	if err != nil {
		fatalf(b, "%v", err)
	}
	defer a.Close()
	defer h.Close()
	bind := &wsa.SockaddrInet4{Addr: ws2.PipeAddrB[0].Addr().As4()}
	var srv echoServer
	switch kind {
	case EchoIOCP:
		srv, err = serveIOCP(h.Session, bind, runtime.GOMAXPROCS(0), 64)
	case EchoGoroutines:
		srv, err = serveGoroutines(h.Session, bind, conns)
	default:
		err = fmt.Errorf("bench: unknown echo server %q", kind)
	}
	if err != nil {
		fatalf(b, "%v", err)
	}
	defer srv.close()
	addr, err := srv.addr()
	if err != nil {
		fatalf(b, "%v", err)
	}
	cli := a.Session
	socks := make([]wsa.Socket, 0, conns)
	defer func() {
		for _, s := range socks {
			cli.Closesocket(s)
		}
	}()
	for range conns {
		s, err := cli.Socket(wsa.AF_INET, wsa.SOCK_STREAM, wsa.IPPROTO_TCP)
		if err != nil {
			fatalf(b, "%v", err)
		}
		socks = append(socks, s)
		if err := cli.Connect(s, addr); err != nil {
			fatalf(b, "connect %d: %v", len(socks), err)
		}
	}
	if err := waitServed(srv, conns); err != nil {
		fatalf(b, "%v", err)
	}
	var wg sync.WaitGroup
	errc := make(chan error, conns)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	start := time.Now()
	for i, s := range socks {
		reqs := b.N / conns
		if i < b.N%conns {
			reqs++
		}
		if reqs == 0 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &nativeConn{cli, s}
			buf := make([]byte, EchoSize)
			for range reqs {
				if _, err := c.Write(buf); err != nil {
					errc <- fmt.Errorf("send: %w", err)
					return
				}
				for got := 0; got < EchoSize; {
					n, err := c.Read(buf[got:])
					if err != nil {
						errc <- fmt.Errorf("recv: %w", err)
						return
					}
					got += n
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	reportCPU(b, cpu0, b.N)
	close(errc)
	for err := range errc {
		fatalf(b, "%v", err)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
}

// goroutineServer is the echo server with one goroutine per connection
// doing blocking Recv and Send on the Session; it accepts conns
// connections, then stops accepting.
type goroutineServer struct {
	s      *api.Session
	listen wsa.Socket
	mu     sync.Mutex
	socks  []wsa.Socket
	wg     sync.WaitGroup
}

func listenTCP(s *api.Session, bind wsa.Sockaddr) (wsa.Socket, error) {
	l, err := s.Socket(wsa.AF_INET, wsa.SOCK_STREAM, wsa.IPPROTO_TCP)
	if err != nil {
		return 0, err
	}
	if err = s.Bind(l, bind); err == nil {
		err = s.Listen(l, wsa.SOMAXCONN)
	}
	if err != nil {
		s.Closesocket(l)
		return 0, err
	}
	return l, nil
}

func serveGoroutines(s *api.Session, bind wsa.Sockaddr, conns int) (*goroutineServer, error) {
	l, err := listenTCP(s, bind)
	if err != nil {
		return nil, err
	}
	g := &goroutineServer{s: s, listen: l}
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		for range conns {
			c, _, err := s.Accept(l)
			if err != nil {
				return
			}
			g.mu.Lock()
			g.socks = append(g.socks, c)
			g.mu.Unlock()
			g.wg.Add(1)
			go func() {
				defer g.wg.Done()
				buf := make([]byte, 16<<10)
				for {
					n, err := s.Recv(c, buf, 0)
					if err != nil || n == 0 {
						return
					}
					for done := int32(0); done < n; {
						m, err := s.Send(c, buf[done:n], 0)
						if err != nil {
							return
						}
						done += m
					}
				}
			}()
		}
	}()
	return g, nil
}

func (g *goroutineServer) addr() (wsa.Sockaddr, error) { return g.s.Getsockname(g.listen) }

func (g *goroutineServer) served() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.socks)
}

// close runs after the clients closed their ends: each connection's
// goroutine sees the FIN (or the reset) and returns.
func (g *goroutineServer) close() {
	g.s.Closesocket(g.listen)
	g.wg.Wait()
	g.mu.Lock()
	for _, c := range g.socks {
		g.s.Closesocket(c)
	}
	g.mu.Unlock()
}

// iocpServer adapts examples/iocpecho's completion-port server (AcceptEx,
// worker goroutines in GetQueuedCompletionStatus) to echoServer.
type iocpServer struct{ *iocpserver.Server }

func serveIOCP(h *api.Session, bind wsa.Sockaddr, workers, pendingAccepts int) (*iocpServer, error) {
	srv, err := iocpserver.Serve(h, bind, workers, pendingAccepts)
	if err != nil {
		return nil, err
	}
	return &iocpServer{srv}, nil
}

func (s *iocpServer) addr() (wsa.Sockaddr, error) { return s.Addr() }
func (s *iocpServer) served() int                 { return s.Accepted() }
func (s *iocpServer) close()                      { s.Close() }
