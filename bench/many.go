package bench

import (
	"encoding/binary"
	"errors"
	"fmt"
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
	runtime.GC()
	var m0 runtime.MemStats
	runtime.ReadMemStats(&m0)
	clients, servers, err := envPairs(env, conns)
	defer closeStreams(clients, servers)
	if err != nil {
		b.Fatalf("after %d connections: %v", len(clients), err)
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
		b.Fatal(err)
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
		b.Fatal(err)
	}
	defer srv.close()
	addr, err := srv.addr()
	if err != nil {
		b.Fatal(err)
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
			b.Fatal(err)
		}
		socks = append(socks, s)
		if err := cli.Connect(s, addr); err != nil {
			b.Fatalf("connect %d: %v", len(socks), err)
		}
	}
	if err := waitServed(srv, conns); err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	errc := make(chan error, conns)
	b.ReportAllocs()
	b.ResetTimer()
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
	close(errc)
	for err := range errc {
		b.Fatal(err)
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

// The IOCP echo server: the structure of examples/iocpecho (a completion
// port, AcceptEx on pre-created sockets, worker goroutines in
// GetQueuedCompletionStatus, one receive or send in flight per connection).

const (
	iocpKeyListen = 0
	iocpAddrBlock = wsa.SizeofSockaddrInet4 + 16
)

type iocpAccept struct {
	ov     wsa.Overlapped
	sock   wsa.Socket
	buf    [2 * iocpAddrBlock]byte
	nbytes uint32
}

type iocpConn struct {
	sock   wsa.Socket
	recvOv wsa.Overlapped
	sendOv wsa.Overlapped
	buf    [16 << 10]byte
	flags  uint32
	unsent []byte
}

type iocpServer struct {
	h      *api.Session
	listen wsa.Socket
	port   wsa.Handle

	mu      sync.Mutex
	accepts map[*wsa.Overlapped]*iocpAccept
	conns   map[uintptr]*iocpConn
	nextKey uintptr
	wg      sync.WaitGroup
}

func serveIOCP(h *api.Session, bind wsa.Sockaddr, workers, pendingAccepts int) (*iocpServer, error) {
	l, err := listenTCP(h, bind)
	if err != nil {
		return nil, err
	}
	s := &iocpServer{h: h, listen: l, accepts: map[*wsa.Overlapped]*iocpAccept{}, conns: map[uintptr]*iocpConn{}, nextKey: 1}
	s.port, err = h.CreateIoCompletionPort(api.INVALID_HANDLE_VALUE, 0, 0, uint32(workers))
	if err == nil {
		_, err = h.CreateIoCompletionPort(wsa.Handle(l), s.port, iocpKeyListen, 0)
	}
	for i := 0; err == nil && i < pendingAccepts; i++ {
		err = s.postAccept()
	}
	if err != nil {
		s.close()
		return nil, err
	}
	for range workers {
		w, err := h.NewCompletionWorker(s.port)
		if err != nil {
			s.close()
			return nil, err
		}
		s.wg.Add(1)
		go s.work(w)
	}
	return s, nil
}

func (s *iocpServer) addr() (wsa.Sockaddr, error) { return s.h.Getsockname(s.listen) }

func (s *iocpServer) served() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return int(s.nextKey - 1)
}

func (s *iocpServer) postAccept() error {
	sock, err := s.h.Socket(wsa.AF_INET, wsa.SOCK_STREAM, wsa.IPPROTO_TCP)
	if err != nil {
		return err
	}
	op := &iocpAccept{sock: sock}
	s.mu.Lock()
	s.accepts[&op.ov] = op
	s.mu.Unlock()
	err = s.h.AcceptEx(s.listen, sock, op.buf[:], 0, iocpAddrBlock, iocpAddrBlock, &op.nbytes, &op.ov)
	if err != nil && !errors.Is(err, wsa.WSA_IO_PENDING) {
		s.mu.Lock()
		delete(s.accepts, &op.ov)
		s.mu.Unlock()
		s.h.Closesocket(sock)
		return err
	}
	return nil
}

func (s *iocpServer) work(w *api.CompletionWorker) {
	defer s.wg.Done()
	defer w.Release()
	for {
		var n uint32
		var key uintptr
		var ov *wsa.Overlapped
		err := w.GetQueuedCompletionStatus(&n, &key, &ov, wsa.WSA_INFINITE)
		if ov == nil {
			return // the port was closed
		}
		if key == iocpKeyListen {
			s.accepted(ov, err)
			continue
		}
		s.mu.Lock()
		c := s.conns[key]
		s.mu.Unlock()
		switch {
		case c == nil:
		case err != nil || (ov == &c.recvOv && n == 0):
			s.drop(key, c)
		case ov == &c.recvOv:
			c.unsent = c.buf[:n]
			s.send(key, c)
		case ov == &c.sendOv:
			c.unsent = c.unsent[n:]
			if len(c.unsent) > 0 {
				s.send(key, c)
			} else {
				s.recv(key, c)
			}
		}
	}
}

func (s *iocpServer) accepted(ov *wsa.Overlapped, err error) {
	s.mu.Lock()
	op := s.accepts[ov]
	delete(s.accepts, ov)
	s.mu.Unlock()
	if op == nil {
		return
	}
	if err != nil { // the listening socket was closed
		s.h.Closesocket(op.sock)
		return
	}
	var lb [8]byte
	binary.LittleEndian.PutUint64(lb[:], uint64(s.listen))
	if err := s.h.Setsockopt(op.sock, wsa.SOL_SOCKET, wsa.SO_UPDATE_ACCEPT_CONTEXT, lb[:]); err != nil {
		s.h.Closesocket(op.sock)
	} else {
		s.mu.Lock()
		key := s.nextKey
		s.nextKey++
		c := &iocpConn{sock: op.sock}
		s.conns[key] = c
		s.mu.Unlock()
		if _, err := s.h.CreateIoCompletionPort(wsa.Handle(c.sock), s.port, key, 0); err != nil {
			s.drop(key, c)
		} else {
			s.recv(key, c)
		}
	}
	_ = s.postAccept()
}

func (s *iocpServer) recv(key uintptr, c *iocpConn) {
	c.flags = 0
	if err := s.h.WSARecv(c.sock, [][]byte{c.buf[:]}, nil, &c.flags, &c.recvOv, nil); err != nil && !errors.Is(err, wsa.WSA_IO_PENDING) {
		s.drop(key, c)
	}
}

func (s *iocpServer) send(key uintptr, c *iocpConn) {
	if err := s.h.WSASend(c.sock, [][]byte{c.unsent}, nil, 0, &c.sendOv, nil); err != nil && !errors.Is(err, wsa.WSA_IO_PENDING) {
		s.drop(key, c)
	}
}

func (s *iocpServer) drop(key uintptr, c *iocpConn) {
	s.mu.Lock()
	_, live := s.conns[key]
	delete(s.conns, key)
	s.mu.Unlock()
	if live {
		s.h.Closesocket(c.sock)
	}
}

// close stops accepting, closes every connection and the port, and waits
// for the workers.
func (s *iocpServer) close() {
	s.h.Closesocket(s.listen)
	s.mu.Lock()
	conns := s.conns
	s.conns = map[uintptr]*iocpConn{}
	s.mu.Unlock()
	for _, c := range conns {
		s.h.Closesocket(c.sock)
	}
	if s.port != 0 {
		s.h.CloseHandle(s.port)
	}
	s.wg.Wait()
	s.mu.Lock()
	for _, op := range s.accepts {
		s.h.Closesocket(op.sock)
	}
	s.accepts = nil
	s.mu.Unlock()
}
