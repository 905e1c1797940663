package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"github.com/ws2go/ws2/wsa"
)

// Winsock is the part of a Winsock session (an *api.Session) that the echo
// service uses: the classic Berkeley-style calls, as ws2_32 exports them.
type Winsock interface {
	Socket(af, typ, protocol int32) (wsa.Socket, error)
	Bind(s wsa.Socket, name wsa.Sockaddr) error
	Listen(s wsa.Socket, backlog int32) error
	Accept(s wsa.Socket) (wsa.Socket, wsa.Sockaddr, error)
	Send(s wsa.Socket, buf []byte, flags int32) (int32, error)
	Recv(s wsa.Socket, buf []byte, flags int32) (int32, error)
	Sendto(s wsa.Socket, buf []byte, flags int32, to wsa.Sockaddr) (int32, error)
	Recvfrom(s wsa.Socket, buf []byte, flags int32) (int32, wsa.Sockaddr, error)
	Shutdown(s wsa.Socket, how int32) error
	Closesocket(s wsa.Socket) error
}

// Buffer sizes of the echo service.
const (
	tcpEchoBuf = 32 << 10 // one Recv's worth per connection
	udpEchoBuf = 64 << 10 // larger than any UDP datagram
)

// Echo is the echo service (RFC 862) on a Winsock session: on TCP every
// byte a client sends is sent back until the client shuts its side down, then
// the service shuts its own side down (SD_SEND) and closes; on UDP every
// datagram is sent back to its source.
//
// Each TCP connection has its own goroutine running a blocking Recv/Send
// loop; each UDP socket a Recvfrom/Sendto loop. Close stops everything.
type Echo struct {
	ws  Winsock
	log *slog.Logger

	mu        sync.Mutex
	closed    bool
	listeners []wsa.Socket          // TCP listeners and UDP sockets
	conns     map[wsa.Socket]string // accepted connections → peer
	wg        sync.WaitGroup
}

// StartEcho binds the echo service to each address in addrs, on TCP and on
// UDP (a wildcard address such as 0.0.0.0:7 or [::]:7 serves every address
// of that family; IPv6 sockets are IPv6-only, as is Winsock's default, so
// give one address per family), and starts serving. On error nothing is left
// running.
func StartEcho(ws Winsock, addrs []netip.AddrPort, log *slog.Logger) (*Echo, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	e := &Echo{ws: ws, log: log, conns: make(map[wsa.Socket]string)}
	type bound struct {
		s   wsa.Socket
		tcp bool
		ap  netip.AddrPort
	}
	var socks []bound
	fail := func(err error) (*Echo, error) {
		for _, b := range socks {
			ws.Closesocket(b.s)
		}
		return nil, err
	}
	for _, ap := range addrs {
		af := int32(wsa.AF_INET)
		if ap.Addr().Is6() {
			af = wsa.AF_INET6
		}
		sa := wsa.SockaddrFromAddrPort(ap)
		if sa == nil {
			return fail(fmt.Errorf("echo: invalid address %v", ap))
		}
		ls, err := ws.Socket(af, wsa.SOCK_STREAM, wsa.IPPROTO_TCP)
		if err != nil {
			return fail(fmt.Errorf("echo: tcp socket for %v: %w", ap, err))
		}
		socks = append(socks, bound{ls, true, ap})
		if err := ws.Bind(ls, sa); err != nil {
			return fail(fmt.Errorf("echo: bind tcp %v: %w", ap, err))
		}
		if err := ws.Listen(ls, wsa.SOMAXCONN); err != nil {
			return fail(fmt.Errorf("echo: listen tcp %v: %w", ap, err))
		}
		us, err := ws.Socket(af, wsa.SOCK_DGRAM, wsa.IPPROTO_UDP)
		if err != nil {
			return fail(fmt.Errorf("echo: udp socket for %v: %w", ap, err))
		}
		socks = append(socks, bound{us, false, ap})
		if err := ws.Bind(us, sa); err != nil {
			return fail(fmt.Errorf("echo: bind udp %v: %w", ap, err))
		}
	}
	for _, b := range socks {
		e.listeners = append(e.listeners, b.s)
		e.wg.Add(1)
		if b.tcp {
			go e.acceptLoop(b.s, b.ap)
		} else {
			go e.udpLoop(b.s, b.ap)
		}
	}
	return e, nil
}

// Close stops the service: it closes the listening and UDP sockets (which
// ends the blocked Accept and Recvfrom calls) and every open connection, and
// waits for all the service's goroutines to return. It is safe to call more
// than once.
func (e *Echo) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		e.wg.Wait()
		return nil
	}
	e.closed = true
	socks := append([]wsa.Socket(nil), e.listeners...)
	for s := range e.conns {
		socks = append(socks, s)
	}
	clear(e.conns)
	e.listeners = nil
	e.mu.Unlock()

	var errs []error
	for _, s := range socks {
		if err := e.ws.Closesocket(s); err != nil && !errors.Is(err, wsa.WSANOTINITIALISED) {
			errs = append(errs, fmt.Errorf("echo: closesocket: %w", err))
		}
	}
	e.wg.Wait()
	return errors.Join(errs...)
}

// isClosed reports whether Close has begun.
func (e *Echo) isClosed() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.closed
}

// acceptLoop accepts connections on the listener ls until it is closed.
func (e *Echo) acceptLoop(ls wsa.Socket, ap netip.AddrPort) {
	defer e.wg.Done()
	for {
		s, peer, err := e.ws.Accept(ls)
		if err != nil {
			if e.isClosed() {
				return
			}
			switch {
			case errors.Is(err, wsa.WSAECONNRESET), errors.Is(err, wsa.WSAECONNABORTED):
				// The client gave up before we got to it.
				continue
			case errors.Is(err, wsa.WSAENOBUFS), errors.Is(err, wsa.WSAEMFILE):
				e.log.Warn("echo: accept", "listener", "tcp "+ap.String(), "err", err)
				time.Sleep(50 * time.Millisecond) // let connections drain
				continue
			}
			e.log.Error("echo: accept failed; tcp listener stopped", "listener", "tcp "+ap.String(), "err", err)
			return
		}
		name := peerString(peer)
		e.mu.Lock()
		if e.closed {
			e.mu.Unlock()
			e.ws.Closesocket(s)
			return
		}
		e.conns[s] = name
		e.wg.Add(1)
		e.mu.Unlock()
		go e.serveTCP(s, name)
	}
}

// serveTCP echoes one connection: Recv and Send back until the peer's FIN,
// then shutdown(SD_SEND) and close.
func (e *Echo) serveTCP(s wsa.Socket, peer string) {
	defer e.wg.Done()
	defer e.release(s)
	buf := make([]byte, tcpEchoBuf)
	for {
		n, err := e.ws.Recv(s, buf, 0)
		if err != nil {
			e.connError("recv", peer, err)
			return
		}
		if n == 0 {
			// The peer has sent everything: so have we.
			if err := e.ws.Shutdown(s, wsa.SD_SEND); err != nil {
				e.connError("shutdown", peer, err)
			}
			return
		}
		if err := sendAll(e.ws, s, buf[:n]); err != nil {
			e.connError("send", peer, err)
			return
		}
	}
}

// sendAll sends all of b on s, looping over partial sends.
func sendAll(ws Winsock, s wsa.Socket, b []byte) error {
	for len(b) > 0 {
		n, err := ws.Send(s, b, 0)
		if err != nil {
			return err
		}
		if n <= 0 || int(n) > len(b) {
			return fmt.Errorf("send returned %d for %d bytes", n, len(b))
		}
		b = b[n:]
	}
	return nil
}

// release closes an accepted connection unless Close already has.
func (e *Echo) release(s wsa.Socket) {
	e.mu.Lock()
	_, mine := e.conns[s]
	delete(e.conns, s)
	e.mu.Unlock()
	if mine {
		if err := e.ws.Closesocket(s); err != nil && !errors.Is(err, wsa.WSANOTINITIALISED) {
			e.log.Warn("echo: closesocket", "err", err)
		}
	}
}

// connError logs an error that ended a connection: peers resetting and the
// service stopping are normal and logged at debug level only.
func (e *Echo) connError(op, peer string, err error) {
	level := slog.LevelWarn
	if e.isClosed() || errors.Is(err, wsa.WSAECONNRESET) || errors.Is(err, wsa.WSAECONNABORTED) ||
		errors.Is(err, wsa.WSAESHUTDOWN) || errors.Is(err, wsa.WSAEINTR) || errors.Is(err, wsa.WSAENOTSOCK) {
		level = slog.LevelDebug
	}
	e.log.Log(context.Background(), level, "echo: tcp connection ended", "op", op, "peer", peer, "err", err)
}

// udpLoop sends every datagram that arrives on s back to its source.
func (e *Echo) udpLoop(s wsa.Socket, ap netip.AddrPort) {
	defer e.wg.Done()
	buf := make([]byte, udpEchoBuf)
	for {
		n, from, err := e.ws.Recvfrom(s, buf, 0)
		if err != nil {
			if e.isClosed() {
				return
			}
			switch {
			case errors.Is(err, wsa.WSAEMSGSIZE):
				// Cannot happen with a 64 KiB buffer; drop it all the same.
				e.log.Warn("echo: udp datagram truncated, dropped", "socket", "udp "+ap.String())
				continue
			case errors.Is(err, wsa.WSAECONNRESET), errors.Is(err, wsa.WSAENETRESET):
				// An ICMP error for an earlier reply (SIO_UDP_CONNRESET).
				continue
			}
			e.log.Error("echo: recvfrom failed; udp socket stopped", "socket", "udp "+ap.String(), "err", err)
			return
		}
		if from == nil {
			continue
		}
		if _, err := e.ws.Sendto(s, buf[:n], 0, from); err != nil && !e.isClosed() {
			e.log.Debug("echo: sendto", "peer", peerString(from), "err", err)
		}
	}
}

func peerString(sa wsa.Sockaddr) string {
	if sa == nil {
		return "?"
	}
	return sa.AddrPort().String()
}
