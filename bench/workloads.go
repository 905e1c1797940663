package bench

import (
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// stream is one end of a TCP connection.
type stream interface {
	io.ReadWriteCloser
}

// closeWrite half-closes s when it can, else closes it.
func closeWrite(s stream) error {
	if cw, ok := s.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return s.Close()
}

// envPairs returns n connected TCP pairs over env.
func envPairs(env Env, n int) (clients, servers []stream, err error) {
	l, err := env.ListenTCP()
	if err != nil {
		return nil, nil, err
	}
	defer l.Close()
	for range n {
		type res struct {
			c   net.Conn
			err error
		}
		ch := make(chan res, 1)
		go func() { c, err := l.Accept(); ch <- res{c, err} }()
		c, err := env.DialTCP(l.Addr())
		if err != nil {
			return nil, nil, err
		}
		r := <-ch
		if r.err != nil {
			c.Close()
			return nil, nil, r.err
		}
		clients = append(clients, c)
		servers = append(servers, r.c)
	}
	return clients, servers, nil
}

// BulkChunk is the size of one write in the bulk workload: one op.
const BulkChunk = 64 << 10

// bulk sends b.N chunks of BulkChunk bytes, split over the client streams,
// to readers on the server streams, and reports Gbit/s.
func bulk(b *testing.B, clients, servers []stream) {
	b.SetBytes(BulkChunk)
	b.ReportAllocs()
	var wg sync.WaitGroup
	var total atomic.Int64
	errc := make(chan error, 3*len(clients))
	b.ResetTimer()
	cpu0 := cpuTime()
	start := time.Now()
	for i := range clients {
		ops := b.N / len(clients)
		if i < b.N%len(clients) {
			ops++
		}
		wg.Add(2)
		go func() {
			defer wg.Done()
			buf := make([]byte, BulkChunk)
			for range ops {
				if _, err := clients[i].Write(buf); err != nil {
					errc <- fmt.Errorf("write: %w", err)
					break
				}
			}
			if err := closeWrite(clients[i]); err != nil {
				errc <- fmt.Errorf("close write: %w", err)
			}
		}()
		go func() {
			defer wg.Done()
			buf := make([]byte, 256<<10)
			for {
				n, err := servers[i].Read(buf)
				total.Add(int64(n))
				if errors.Is(err, io.EOF) {
					return
				}
				if err != nil {
					errc <- fmt.Errorf("read: %w", err)
					return
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
	if got, want := total.Load(), int64(b.N)*BulkChunk; got != want {
		fatalf(b, "received %d bytes, sent %d", got, want)
	}
	b.ReportMetric(float64(total.Load())*8/elapsed.Seconds()/1e9, "Gbit/s")
}

func closeStreams(ss ...[]stream) {
	for _, s := range ss {
		for _, c := range s {
			c.Close()
		}
	}
}

// BulkTCP is the bulk throughput workload over env with the given streams.
func BulkTCP(b *testing.B, env Env, streams int) {
	clients, servers, err := envPairs(env, streams)
	if err != nil {
		fatalf(b, "%v", err)
	}
	defer closeStreams(clients, servers)
	bulk(b, clients, servers)
}

// BulkTCPNative is BulkTCP over blocking api Send/Recv (path
// api-netstack-native or api-host-native).
func BulkTCPNative(b *testing.B, path string, mtu uint32, streams int) {
	clients, servers, cleanup, err := nativeSetup(path, mtu, streams)
	if err != nil {
		fatalf(b, "%v", err)
	}
	defer cleanup()
	defer closeStreams(clients, servers)
	bulk(b, clients, servers)
}

// percentile returns the p-th percentile (0..100) of sorted samples.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)-1) * p / 100)
	return sorted[i]
}

// Latency is the request/response workload: b.N round trips of size-byte
// messages echoed by the server; reports p50-µs and p99-µs from the sorted
// samples.
func Latency(b *testing.B, env Env, size int) {
	clients, servers, err := envPairs(env, 1)
	if err != nil {
		fatalf(b, "%v", err)
	}
	defer closeStreams(clients, servers)
	c, s := clients[0], servers[0]
	go func() {
		buf := make([]byte, size)
		for {
			if _, err := io.ReadFull(s, buf); err != nil {
				return
			}
			if _, err := s.Write(buf); err != nil {
				return
			}
		}
	}()
	if nd, ok := c.(interface{ SetNoDelay(bool) error }); ok {
		_ = nd.SetNoDelay(true)
	}
	samples := make([]time.Duration, 0, b.N)
	buf := make([]byte, size)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for range b.N {
		t0 := time.Now()
		if _, err := c.Write(buf); err != nil {
			fatalf(b, "%v", err)
		}
		if _, err := io.ReadFull(c, buf); err != nil {
			fatalf(b, "%v", err)
		}
		samples = append(samples, time.Since(t0))
	}
	b.StopTimer()
	reportCPU(b, cpu0, b.N)
	slices.Sort(samples)
	b.ReportMetric(float64(percentile(samples, 50))/1e3, "p50-µs")
	b.ReportMetric(float64(percentile(samples, 99))/1e3, "p99-µs")
}

// ConnSetupMaxN caps the connections of one ConnSetup measurement in the
// runner. The api's clients take their implicit-bind ports from Windows'
// dynamic range, 49152-65535 (16,384 ports), and in this build a closed
// connection's port is not free again within the measurement, so a
// measurement of more connections than that fails with WSAEADDRNOTAVAIL.
const ConnSetupMaxN = 15000

// ConnSetup is the connection setup workload: per op the client connects,
// the server accepts, one byte goes each way, and both close (the server
// first, so TIME_WAIT stays on the listening side). Reports conns/s.
func ConnSetup(b *testing.B, env Env) {
	l, err := env.ListenTCP()
	if err != nil {
		fatalf(b, "%v", err)
	}
	defer l.Close()
	go func() {
		buf := make([]byte, 1)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			if _, err := io.ReadFull(c, buf); err == nil {
				_, _ = c.Write(buf)
			}
			c.Close()
		}
	}()
	addr := l.Addr()
	buf := make([]byte, 1)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	start := time.Now()
	for range b.N {
		c, err := env.DialTCP(addr)
		if err != nil {
			fatalf(b, "%v", err)
		}
		if _, err := c.Write(buf); err != nil {
			fatalf(b, "%v", err)
		}
		if _, err := io.ReadFull(c, buf); err != nil {
			fatalf(b, "%v", err)
		}
		if _, err := c.Read(buf); !errors.Is(err, io.EOF) {
			fatalf(b, "want EOF after the exchange, got %v", err)
		}
		c.Close()
	}
	elapsed := time.Since(start)
	b.StopTimer()
	reportCPU(b, cpu0, b.N)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "conns/s")
}

// UDPQuiet is how long the UDP workload waits for stragglers once no
// datagram has arrived.
const UDPQuiet = 50 * time.Millisecond

// UDP is the datagram workload: the client sends b.N size-byte datagrams as
// fast as it can; the server counts what arrives. Reports dgrams/s
// (received, over the time from the first send to the last arrival) and
// loss-% (datagrams not received, including sends that failed).
func UDP(b *testing.B, env Env, size int) {
	pc, err := env.ListenUDP()
	if err != nil {
		fatalf(b, "%v", err)
	}
	defer pc.Close()
	c, err := env.DialUDP(pc.LocalAddr())
	if err != nil {
		fatalf(b, "%v", err)
	}
	defer c.Close()
	var got atomic.Int64
	var last atomic.Int64 // UnixNano of the last arrival
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 65536)
		for {
			if _, _, err := pc.ReadFrom(buf); err != nil {
				return
			}
			got.Add(1)
			last.Store(time.Now().UnixNano())
		}
	}()
	buf := make([]byte, size)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	start := time.Now()
	for range b.N {
		_, _ = c.Write(buf) // a failed send counts as a loss
	}
	// Wait until all arrived or nothing came for UDPQuiet.
	for quiet, prev := time.Duration(0), int64(-1); got.Load() < int64(b.N) && quiet < UDPQuiet; {
		if n := got.Load(); n != prev {
			prev, quiet = n, 0
		}
		time.Sleep(time.Millisecond)
		quiet += time.Millisecond
	}
	b.StopTimer()
	reportCPU(b, cpu0, b.N)
	_ = pc.SetReadDeadline(time.Now())
	<-done
	n := got.Load()
	elapsed := time.Duration(last.Load() - start.UnixNano())
	if n == 0 || elapsed <= 0 {
		elapsed = time.Since(start)
	}
	b.ReportMetric(float64(n)/elapsed.Seconds(), "dgrams/s")
	b.ReportMetric(100*float64(int64(b.N)-n)/float64(b.N), "loss-%")
}
