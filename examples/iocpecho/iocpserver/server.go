// Package iocpserver is an echo server written the way Windows servers are:
// a completion port, AcceptEx with pre-created sockets, and worker
// goroutines in GetQueuedCompletionStatus. examples/iocpecho runs it, and
// the benchmark suite measures it against a goroutine-per-connection server.
package iocpserver

import (
	"encoding/binary"
	"sync"
	"sync/atomic"

	"github.com/ws2go/ws2/api"
	"github.com/ws2go/ws2/wsa"
)

// The completion keys: the listening socket's AcceptEx completions come with
// keyListen; a connection's with its own id.
const keyListen = 0

// addrBlock is the size of one AcceptEx address block for IPv4
// (sizeof(sockaddr_in) + 16).
const addrBlock = wsa.SizeofSockaddrInet4 + 16

// acceptOp is one outstanding AcceptEx: the overlapped, the socket that will
// become the connection, and the buffer for the address blocks.
type acceptOp struct {
	ov     wsa.Overlapped
	sock   wsa.Socket
	buf    [2 * addrBlock]byte
	nbytes uint32
}

// conn is a connection's context: one receive and one send in flight at
// most, as the classic IOCP echo server does.
type conn struct {
	sock   wsa.Socket
	recvOv wsa.Overlapped
	sendOv wsa.Overlapped
	buf    [16 << 10]byte
	flags  uint32
	unsent []byte // what the current send still has to write
}

// Server is an echo server written the way Windows servers are: a
// completion port, AcceptEx with pre-created sockets, and worker goroutines
// that call GetQueuedCompletionStatus.
type Server struct {
	h      *api.Session
	listen wsa.Socket
	port   wsa.Handle

	mu      sync.Mutex
	accepts map[*wsa.Overlapped]*acceptOp
	conns   map[uintptr]*conn
	nextKey uintptr
	wg      sync.WaitGroup

	accepted atomic.Int64 // connections taken on so far
}

// Serve listens on addr and starts workers goroutines. Stop it with Close.
func Serve(h *api.Session, addr wsa.Sockaddr, workers, pendingAccepts int) (*Server, error) {
	s := &Server{h: h, accepts: map[*wsa.Overlapped]*acceptOp{}, conns: map[uintptr]*conn{}, nextKey: 1}
	var err error
	if s.listen, err = h.Socket(wsa.AF_INET, wsa.SOCK_STREAM, wsa.IPPROTO_TCP); err != nil {
		return nil, err
	}
	if err = h.Bind(s.listen, addr); err == nil {
		err = h.Listen(s.listen, wsa.SOMAXCONN)
	}
	if err == nil {
		s.port, err = h.CreateIoCompletionPort(api.INVALID_HANDLE_VALUE, 0, 0, uint32(workers))
	}
	if err == nil {
		_, err = h.CreateIoCompletionPort(wsa.Handle(s.listen), s.port, keyListen, 0)
	}
	for i := 0; err == nil && i < pendingAccepts; i++ {
		err = s.postAccept(&acceptOp{})
	}
	if err != nil {
		h.Closesocket(s.listen)
		if s.port != 0 {
			h.CloseHandle(s.port)
		}
		return nil, err
	}
	for range workers {
		w, err := h.NewCompletionWorker(s.port)
		if err != nil {
			s.Close()
			return nil, err
		}
		s.wg.Add(1)
		go s.work(w)
	}
	return s, nil
}

// Accepted is how many connections the server has taken on so far.
func (s *Server) Accepted() int { return int(s.accepted.Load()) }

// Addr is the listening address.
func (s *Server) Addr() (wsa.Sockaddr, error) { return s.h.Getsockname(s.listen) }

// postAccept issues AcceptEx with a fresh accept socket.
func (s *Server) postAccept(op *acceptOp) error {
	sock, err := s.h.Socket(wsa.AF_INET, wsa.SOCK_STREAM, wsa.IPPROTO_TCP)
	if err != nil {
		return err
	}
	op.sock = sock
	s.mu.Lock()
	s.accepts[&op.ov] = op
	s.mu.Unlock()
	err = s.h.AcceptEx(s.listen, sock, op.buf[:], 0, addrBlock, addrBlock, &op.nbytes, &op.ov)
	if err != nil && err != wsa.WSA_IO_PENDING {
		s.mu.Lock()
		delete(s.accepts, &op.ov)
		s.mu.Unlock()
		s.h.Closesocket(sock)
		return err
	}
	return nil
}

// work is one worker: GetQueuedCompletionStatus in a loop until the port
// closes.
func (s *Server) work(w *api.CompletionWorker) {
	defer s.wg.Done()
	defer w.Release()
	for {
		var n uint32
		var key uintptr
		var ov *wsa.Overlapped
		err := w.GetQueuedCompletionStatus(&n, &key, &ov, wsa.WSA_INFINITE)
		if ov == nil {
			return // the port was closed (ERROR_ABANDONED_WAIT_0)
		}
		if key == keyListen {
			s.acceptDone(ov, err)
			continue
		}
		s.mu.Lock()
		c := s.conns[key]
		s.mu.Unlock()
		if c == nil {
			continue
		}
		switch {
		case err != nil || (ov == &c.recvOv && n == 0):
			s.drop(key, c) // reset, abort, or the peer's FIN
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

// acceptDone completes an AcceptEx: the new connection is associated with the
// port under its own key, its first receive is issued, and the AcceptEx is
// posted again.
func (s *Server) acceptDone(ov *wsa.Overlapped, err error) {
	s.mu.Lock()
	op := s.accepts[ov]
	delete(s.accepts, ov)
	s.mu.Unlock()
	if op == nil {
		return
	}
	if err != nil { // the listening socket was closed: stop accepting
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
		c := &conn{sock: op.sock}
		s.conns[key] = c
		s.mu.Unlock()
		if _, err := s.h.CreateIoCompletionPort(wsa.Handle(c.sock), s.port, key, 0); err != nil {
			s.drop(key, c)
		} else {
			s.accepted.Add(1)
			s.recv(key, c)
		}
	}
	s.postAccept(&acceptOp{})
}

func (s *Server) recv(key uintptr, c *conn) {
	c.flags = 0
	if err := s.h.WSARecv(c.sock, [][]byte{c.buf[:]}, nil, &c.flags, &c.recvOv, nil); err != nil && err != wsa.WSA_IO_PENDING {
		s.drop(key, c)
	}
}

func (s *Server) send(key uintptr, c *conn) {
	if err := s.h.WSASend(c.sock, [][]byte{c.unsent}, nil, 0, &c.sendOv, nil); err != nil && err != wsa.WSA_IO_PENDING {
		s.drop(key, c)
	}
}

func (s *Server) drop(key uintptr, c *conn) {
	s.mu.Lock()
	_, live := s.conns[key]
	delete(s.conns, key)
	s.mu.Unlock()
	if live {
		s.h.Closesocket(c.sock)
	}
}

// Close stops accepting, closes every connection and the port, and waits
// for the workers.
func (s *Server) Close() {
	s.h.Closesocket(s.listen) // aborts the pending AcceptEx operations
	s.mu.Lock()
	conns := s.conns
	s.conns = map[uintptr]*conn{}
	s.mu.Unlock()
	for _, c := range conns {
		s.h.Closesocket(c.sock)
	}
	s.h.CloseHandle(s.port) // wakes the workers
	s.wg.Wait()
	s.mu.Lock()
	for _, op := range s.accepts {
		s.h.Closesocket(op.sock)
	}
	s.accepts = nil
	s.mu.Unlock()
}
