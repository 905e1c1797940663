package api_test

import (
	"encoding/binary"
	"os"
	"sync"
	"testing"

	"github.com/ws2go/ws2/api"
	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/wsa"
)

// ioProv is the fake provider of the I/O-model tests: fakeInst (sockets,
// connect/accept pairing, data channels) plus what the I/O models need from
// a provider, done the way the SPI asks: overlapped send, receive and ioctl
// completing through provider.CompleteOverlapped (pending receives wait in a
// goroutine on the socket's data channel, never polling), provider.Canceler,
// provider.Poller, WSPSelect, WSPEventSelect/WSPEnumNetworkEvents/
// WSPAsyncSelect (FD_WRITE is recorded at registration), and the extension
// functions handed out through SIO_GET_EXTENSION_FUNCTION_POINTER.
//
// An overlapped receive takes one chunk from the data channel and drops
// what does not fit; the tests send small messages.
type ioProv struct {
	*fakeInst

	omu     sync.Mutex
	pending map[*wsa.Overlapped]*ioOp
	late    chan struct{} // ioctlLateSuccess completes when it is closed

	rmu       sync.Mutex
	recorded  map[wsa.Socket]int32 // FD_* recorded for WSAEventSelect
	evsel     map[wsa.Socket]wsa.Handle
	selects   int
	polls     int
	pollTmo   int32
	lastOv    *wsa.Overlapped // the ov of the latest WSPSend
	sockopts  []int32         // SOL_SOCKET option names set
	transmits [][]byte        // what TransmitFile/TransmitPackets/DisconnectEx sent

	ext map[wsa.GUID]uintptr
}

type ioOp struct {
	s     wsa.Socket
	tid   provider.ThreadID
	abort chan wsa.Errno // capacity 1
	fin   chan ioResult  // capacity 1: ioctlPending results
	done  chan struct{}  // closed once completed
}

type ioResult struct {
	errno wsa.Errno
	bytes uint32
}

// WSAIoctl codes the fake answers for overlapped tests.
const (
	ioctlEarlyPending = 0x98000101 // completes inside the call (7 bytes), returns WSA_IO_PENDING
	ioctlLateSuccess  = 0x98000102 // returns 7, nil; completes when late is closed
	ioctlFail         = 0x98000103 // fails with WSAENOTCONN, no completion
	ioctlPending      = 0x98000104 // pending until finish or cancel
	ioctlFailMsgSize  = 0x98000105 // fails with WSAEMSGSIZE, no completion (not a receive)
)

// ioEnv is a catalog of two ioProv providers: "io4" (IPv4 TCP and UDP) and
// "io6" (IPv6 TCP).
type ioEnv struct {
	reg     *provider.Registry
	cat     *provider.Catalog
	f4, f6  *fakeProvider
	mu      sync.Mutex
	p4, p6  *ioProv
	started int
}

func newIOEnv(t testing.TB) *ioEnv {
	t.Helper()
	env, err := makeIOEnv()
	must(t, err)
	return env
}

func makeIOEnv() (*ioEnv, error) {
	env := &ioEnv{reg: provider.NewRegistry(), f4: newFakeProvider("io4"), f6: newFakeProvider("io6")}
	env.cat = provider.NewCatalog(env.reg)
	if err := env.reg.Register("io4", env.startup(env.f4, &env.p4)); err != nil {
		return nil, err
	}
	if err := env.reg.Register("io6", env.startup(env.f6, &env.p6)); err != nil {
		return nil, err
	}
	if err := env.cat.WSCInstallProvider(wsa.GUID{Data1: 0x104}, "io4", []wsa.ProtocolInfo{
		entry("TCP/IP", wsa.AF_INET, wsa.SOCK_STREAM, wsa.IPPROTO_TCP, wsa.PFL_MATCHES_PROTOCOL_ZERO),
		entry("UDP/IP", wsa.AF_INET, wsa.SOCK_DGRAM, wsa.IPPROTO_UDP, wsa.PFL_MATCHES_PROTOCOL_ZERO),
	}); err != nil {
		return nil, err
	}
	return env, env.cat.WSCInstallProvider(wsa.GUID{Data1: 0x106}, "io6", []wsa.ProtocolInfo{
		entry("TCP/IPv6", wsa.AF_INET6, wsa.SOCK_STREAM, wsa.IPPROTO_TCP, wsa.PFL_MATCHES_PROTOCOL_ZERO),
	})
}

func (env *ioEnv) startup(fp *fakeProvider, slot **ioProv) provider.StartupFunc {
	return func(version uint16, info *wsa.ProtocolInfo, up provider.UpcallTable) (provider.WSPData, provider.ProcTable, error) {
		d, pt, err := fp.startup(version, info, up)
		if err != nil {
			return d, pt, err
		}
		p := &ioProv{fakeInst: pt.(*fakeInst), pending: map[*wsa.Overlapped]*ioOp{}, late: make(chan struct{}),
			recorded: map[wsa.Socket]int32{}, evsel: map[wsa.Socket]wsa.Handle{}}
		p.ext = map[wsa.GUID]uintptr{
			wsa.WSAID_ACCEPTEX:        provider.NewExtensionHandle(provider.AcceptExFunc(p.acceptEx)),
			wsa.WSAID_CONNECTEX:       provider.NewExtensionHandle(provider.ConnectExFunc(p.connectEx)),
			wsa.WSAID_DISCONNECTEX:    provider.NewExtensionHandle(provider.DisconnectExFunc(p.disconnectEx)),
			wsa.WSAID_TRANSMITFILE:    provider.NewExtensionHandle(provider.TransmitFileFunc(p.transmitFile)),
			wsa.WSAID_TRANSMITPACKETS: provider.NewExtensionHandle(provider.TransmitPacketsFunc(p.transmitPackets)),
			wsa.WSAID_WSARECVMSG:      provider.NewExtensionHandle(provider.WSARecvMsgFunc(p.recvMsg)),
			wsa.WSAID_WSASENDMSG:      provider.NewExtensionHandle(provider.WSASendMsgFunc(p.sendMsg)),
		}
		env.mu.Lock()
		*slot = p
		env.started++
		env.mu.Unlock()
		return d, p, nil
	}
}

func (env *ioEnv) start(t testing.TB) *api.Session {
	t.Helper()
	s, err := api.WSAStartup(wsa.WINSOCK_VERSION, env.cat)
	if err != nil {
		t.Fatalf("WSAStartup: %v", err)
	}
	t.Cleanup(func() { _ = s.WSACleanup() })
	return s
}

func (env *ioEnv) prov4() *ioProv {
	env.mu.Lock()
	defer env.mu.Unlock()
	return env.p4
}

func (env *ioEnv) prov6() *ioProv {
	env.mu.Lock()
	defer env.mu.Unlock()
	return env.p6
}

var loop4 = &wsa.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}

// pair returns a connected client and server socket over provider io4, and
// the listening socket.
func pair(t testing.TB, s *api.Session) (c, srv, l wsa.Socket) {
	t.Helper()
	l, err := s.Socket(wsa.AF_INET, wsa.SOCK_STREAM, 0)
	must(t, err)
	must(t, s.Bind(l, &wsa.SockaddrInet4{Addr: loop4.Addr}))
	must(t, s.Listen(l, 8))
	name, err := s.Getsockname(l)
	must(t, err)
	c, err = s.Socket(wsa.AF_INET, wsa.SOCK_STREAM, 0)
	must(t, err)
	must(t, s.Connect(c, name))
	srv, _, err = s.Accept(l)
	must(t, err)
	return c, srv, l
}

// complete delivers a completion as every provider must.
func (p *ioProv) complete(s wsa.Socket, ov *wsa.Overlapped, cr wsa.CompletionRoutine, tid *provider.ThreadID, errno wsa.Errno, n uint32) {
	_ = provider.CompleteOverlapped(p.up, s, ov, cr, tid, errno, n, 0)
}

// startOp registers a pending operation; wait runs in its own goroutine
// until the operation has its result (it must also end on op.abort and on
// the socket's close, with WSA_OPERATION_ABORTED).
func (p *ioProv) startOp(s wsa.Socket, ov *wsa.Overlapped, cr wsa.CompletionRoutine, tid *provider.ThreadID, wait func(op *ioOp) ioResult) error {
	op := &ioOp{s: s, abort: make(chan wsa.Errno, 1), fin: make(chan ioResult, 1), done: make(chan struct{})}
	if tid != nil {
		op.tid = *tid
	}
	p.omu.Lock()
	p.pending[ov] = op
	p.omu.Unlock()
	go func() {
		r := wait(op)
		p.omu.Lock()
		delete(p.pending, ov)
		p.omu.Unlock()
		p.complete(s, ov, cr, &op.tid, r.errno, r.bytes)
		close(op.done)
	}()
	return wsa.WSA_IO_PENDING
}

// finish completes an ioctlPending operation.
func (p *ioProv) finish(ov *wsa.Overlapped, errno wsa.Errno, n uint32) {
	p.omu.Lock()
	op := p.pending[ov]
	p.omu.Unlock()
	op.fin <- ioResult{errno, n}
	<-op.done
}

// WSPCloseSocket aborts the socket's pending operations and returns once
// they have completed, as a real provider does.
func (p *ioProv) WSPCloseSocket(s wsa.Socket) error {
	p.omu.Lock()
	var ops []*ioOp
	for _, op := range p.pending {
		if op.s == s {
			ops = append(ops, op)
		}
	}
	p.omu.Unlock()
	if err := p.fakeInst.WSPCloseSocket(s); err != nil {
		return err
	}
	for _, op := range ops {
		<-op.done
	}
	return nil
}

// WSPCancelIo implements provider.Canceler.
func (p *ioProv) WSPCancelIo(s wsa.Socket, ov *wsa.Overlapped) error {
	p.omu.Lock()
	var ops []*ioOp
	for o, op := range p.pending {
		if op.s == s && (ov == nil || o == ov) {
			ops = append(ops, op)
		}
	}
	p.omu.Unlock()
	if len(ops) == 0 {
		return wsa.ERROR_NOT_FOUND
	}
	for _, op := range ops {
		select {
		case op.abort <- wsa.WSA_OPERATION_ABORTED:
		default:
		}
	}
	for _, op := range ops {
		<-op.done
	}
	return nil
}

func copyTo(bufs [][]byte, data []byte) uint32 {
	var n uint32
	for _, b := range bufs {
		c := copy(b, data)
		data = data[c:]
		n += uint32(c)
	}
	return n
}

func (p *ioProv) WSPSend(s wsa.Socket, bufs [][]byte, flags uint32, ov *wsa.Overlapped, cr wsa.CompletionRoutine, tid *provider.ThreadID) (uint32, error) {
	p.rmu.Lock()
	p.lastOv = ov
	p.rmu.Unlock()
	n, err := p.send(s, bufs, nil, nil, nil)
	if err != nil || ov == nil {
		return n, err
	}
	p.complete(s, ov, cr, tid, 0, n)
	return n, nil
}

func (p *ioProv) WSPSendTo(s wsa.Socket, bufs [][]byte, flags uint32, to wsa.Sockaddr, ov *wsa.Overlapped, cr wsa.CompletionRoutine, tid *provider.ThreadID) (uint32, error) {
	return p.WSPSend(s, bufs, flags, ov, cr, tid)
}

// recvOv is an overlapped receive: at once when a chunk is there, else
// pending until one arrives, the peer closes, or it is aborted. On a
// datagram socket a chunk larger than the buffers is a truncated datagram:
// it completes with WSAEMSGSIZE, and at once the call returns WSAEMSGSIZE
// with the bytes, the completion delivered (the SPI rule).
func (p *ioProv) recvOv(s wsa.Socket, ov *wsa.Overlapped, cr wsa.CompletionRoutine, tid *provider.ThreadID, take func(fs *fakeSock, data []byte) uint32) (uint32, error) {
	fs, err := p.sock(s)
	if err != nil {
		return 0, err
	}
	select {
	case data := <-fs.rx:
		n := take(fs, data)
		errno := truncated(fs, data, n)
		p.complete(s, ov, cr, tid, errno, n)
		if errno != 0 {
			return n, errno
		}
		return n, nil
	default:
	}
	return 0, p.startOp(s, ov, cr, tid, func(op *ioOp) ioResult {
		select {
		case data := <-fs.rx:
			n := take(fs, data)
			return ioResult{bytes: n, errno: truncated(fs, data, n)}
		case <-fs.eof:
			return ioResult{}
		case e := <-op.abort:
			return ioResult{errno: e}
		case <-fs.closed:
			return ioResult{errno: wsa.WSA_OPERATION_ABORTED}
		}
	})
}

// truncated is the error of receiving data into n bytes of buffers on fs:
// WSAEMSGSIZE for a datagram that did not fit.
func truncated(fs *fakeSock, data []byte, n uint32) wsa.Errno {
	if fs.typ == wsa.SOCK_DGRAM && int(n) < len(data) {
		return wsa.WSAEMSGSIZE
	}
	return 0
}

// inject queues data as a received chunk (a datagram) on socket s.
func (p *ioProv) inject(t testing.TB, s wsa.Socket, data []byte) {
	t.Helper()
	fs, err := p.sock(s)
	must(t, err)
	fs.rx <- data
}

func (p *ioProv) WSPRecv(s wsa.Socket, bufs [][]byte, flags *uint32, ov *wsa.Overlapped, cr wsa.CompletionRoutine, tid *provider.ThreadID) (uint32, error) {
	if ov == nil {
		return p.fakeInst.WSPRecv(s, bufs, flags, nil, nil, tid)
	}
	return p.recvOv(s, ov, cr, tid, func(_ *fakeSock, data []byte) uint32 { return copyTo(bufs, data) })
}

func (p *ioProv) WSPRecvFrom(s wsa.Socket, bufs [][]byte, flags *uint32, from *wsa.Sockaddr, ov *wsa.Overlapped, cr wsa.CompletionRoutine, tid *provider.ThreadID) (uint32, error) {
	if ov == nil {
		return p.fakeInst.WSPRecvFrom(s, bufs, flags, from, nil, nil, tid)
	}
	return p.recvOv(s, ov, cr, tid, func(fs *fakeSock, data []byte) uint32 {
		if from != nil {
			*from = fs.peerAddr
		}
		return copyTo(bufs, data)
	})
}

func (p *ioProv) WSPIoctl(s wsa.Socket, code uint32, in, out []byte, ov *wsa.Overlapped, cr wsa.CompletionRoutine, tid *provider.ThreadID) (uint32, error) {
	fs, err := p.sock(s)
	if err != nil {
		return 0, err
	}
	switch code {
	case wsa.SIO_GET_EXTENSION_FUNCTION_POINTER:
		g, err := wsa.UnmarshalGUID(in)
		if err != nil {
			return 0, wsa.WSAEFAULT
		}
		h, ok := p.ext[g]
		if !ok {
			return 0, wsa.WSAEINVAL
		}
		if len(out) < 8 {
			return 0, wsa.WSAEFAULT
		}
		binary.LittleEndian.PutUint64(out, uint64(h))
		if ov != nil {
			p.complete(s, ov, cr, tid, 0, 8)
		}
		return 8, nil
	case ioctlEarlyPending:
		p.complete(s, ov, cr, tid, 0, 7)
		return 0, wsa.WSA_IO_PENDING
	case ioctlLateSuccess:
		tc := *tid
		go func() {
			<-p.late
			p.complete(s, ov, cr, &tc, 0, 7)
		}()
		return 7, nil
	case ioctlFail:
		return 0, wsa.WSAENOTCONN
	case ioctlFailMsgSize:
		return 0, wsa.WSAEMSGSIZE
	case ioctlPending:
		return 0, p.startOp(s, ov, cr, tid, func(op *ioOp) ioResult {
			select {
			case r := <-op.fin:
				return r
			case e := <-op.abort:
				return ioResult{errno: e}
			case <-fs.closed:
				return ioResult{errno: wsa.WSA_OPERATION_ABORTED}
			}
		})
	}
	return p.fakeInst.WSPIoctl(s, code, in, out, ov, cr, tid)
}

func (p *ioProv) WSPSetSockOpt(s wsa.Socket, level, optname int32, optval []byte) error {
	if level == wsa.SOL_SOCKET {
		p.rmu.Lock()
		p.sockopts = append(p.sockopts, optname)
		p.rmu.Unlock()
	}
	return p.fakeInst.WSPSetSockOpt(s, level, optname, optval)
}

// WSPSelect: every socket is writable, a socket with a queued chunk
// readable, nothing exceptional.
func (p *ioProv) WSPSelect(readfds, writefds, exceptfds *wsa.FdSet, timeout *wsa.Timeval) (int32, error) {
	p.rmu.Lock()
	p.selects++
	p.rmu.Unlock()
	var n int32
	if readfds != nil {
		var ready []wsa.Socket
		for _, h := range readfds.Array {
			if fs, err := p.sock(h); err == nil && len(fs.rx) > 0 {
				ready = append(ready, h)
			}
		}
		readfds.Array = ready
		n += int32(len(ready))
	}
	if writefds != nil {
		n += int32(len(writefds.Array))
	}
	if exceptfds != nil {
		exceptfds.Array = exceptfds.Array[:0]
	}
	return n, nil
}

// WSPPoll implements provider.Poller like WSPSelect.
func (p *ioProv) WSPPoll(fds []wsa.PollFd, timeout int32) (int32, error) {
	p.rmu.Lock()
	p.polls++
	p.pollTmo = timeout
	p.rmu.Unlock()
	var n int32
	for i := range fds {
		fs, err := p.sock(fds[i].Fd)
		if err != nil {
			fds[i].REvents = wsa.POLLNVAL
		} else {
			fds[i].REvents = fds[i].Events & wsa.POLLWRNORM
			if len(fs.rx) > 0 {
				fds[i].REvents |= fds[i].Events & wsa.POLLRDNORM
			}
		}
		if fds[i].REvents != 0 {
			n++
		}
	}
	return n, nil
}

func (p *ioProv) WSPEventSelect(s wsa.Socket, event wsa.Handle, events int32) error {
	if _, err := p.sock(s); err != nil {
		return err
	}
	p.rmu.Lock()
	defer p.rmu.Unlock()
	p.evsel[s] = event
	p.recorded[s] = 0
	if events&wsa.FD_WRITE != 0 {
		p.recorded[s] |= wsa.FD_WRITE
		return p.up.WPUSetEvent(event)
	}
	return nil
}

func (p *ioProv) WSPEnumNetworkEvents(s wsa.Socket, event wsa.Handle) (wsa.NetworkEvents, error) {
	if _, err := p.sock(s); err != nil {
		return wsa.NetworkEvents{}, err
	}
	p.rmu.Lock()
	defer p.rmu.Unlock()
	ne := wsa.NetworkEvents{NetworkEvents: p.recorded[s]}
	p.recorded[s] = 0
	if event != 0 {
		if err := p.up.WPUResetEvent(event); err != nil {
			return wsa.NetworkEvents{}, err
		}
	}
	return ne, nil
}

func (p *ioProv) WSPAsyncSelect(s wsa.Socket, hwnd wsa.Handle, msg uint32, events int32) error {
	if _, err := p.sock(s); err != nil {
		return err
	}
	if events&wsa.FD_WRITE != 0 {
		return p.up.WPUPostMessage(hwnd, msg, uintptr(s), uintptr(wsa.WSAMAKESELECTREPLY(wsa.FD_WRITE, 0)))
	}
	return nil
}

var (
	_ provider.ProcTable = (*ioProv)(nil)
	_ provider.Poller    = (*ioProv)(nil)
	_ provider.Canceler  = (*ioProv)(nil)
)

// The extension functions.

// acceptBlock writes a Wine-layout AcceptEx address block.
func acceptBlock(b []byte, sa wsa.Sockaddr) {
	n, _ := sa.Marshal(b[4:])
	binary.LittleEndian.PutUint32(b, uint32(n))
}

func (p *ioProv) acceptEx(listen, accept wsa.Socket, buf []byte, rx, ll, rl uint32, n *uint32, ov *wsa.Overlapped) error {
	lfs, err := p.sock(listen)
	if err != nil {
		return err
	}
	afs, err := p.sock(accept)
	if err != nil {
		return err
	}
	if lfs.acceptq == nil || afs.local != nil {
		return wsa.WSAEINVAL
	}
	take := func(ns *fakeSock) {
		// The connection moves from the socket WSPConnect made to accept.
		afs.local, afs.peer, afs.peerAddr = ns.local, ns.peer, ns.peerAddr
		ns.peer.peer = afs
		p.mu.Lock()
		delete(p.socks, ns.h)
		p.mu.Unlock()
		_ = p.up.WPUCloseSocketHandle(ns.h)
		acceptBlock(buf[rx:rx+ll], afs.local)
		acceptBlock(buf[rx+ll:rx+ll+rl], afs.peerAddr)
	}
	select {
	case ns := <-lfs.acceptq:
		take(ns)
		*n = 0
		p.complete(listen, ov, nil, nil, 0, 0)
		return nil
	default:
	}
	return p.startOp(listen, ov, nil, nil, func(op *ioOp) ioResult {
		select {
		case ns := <-lfs.acceptq:
			take(ns)
			return ioResult{}
		case e := <-op.abort:
			return ioResult{errno: e}
		case <-lfs.closed:
			return ioResult{errno: wsa.WSA_OPERATION_ABORTED}
		}
	})
}

func (p *ioProv) connectEx(s wsa.Socket, name wsa.Sockaddr, sendBuf []byte, sent *uint32, ov *wsa.Overlapped) error {
	fs, err := p.sock(s)
	if err != nil {
		return err
	}
	p.mu.Lock()
	bound := fs.local != nil
	p.mu.Unlock()
	if !bound {
		return wsa.WSAEINVAL
	}
	if err := p.WSPConnect(s, name, nil, nil, nil, nil); err != nil {
		return err
	}
	var m uint32
	if len(sendBuf) > 0 {
		if m, err = p.send(s, [][]byte{sendBuf}, nil, nil, nil); err != nil {
			return err
		}
	}
	*sent = m
	p.complete(s, ov, nil, nil, 0, m)
	return nil
}

func (p *ioProv) record(b []byte) {
	p.rmu.Lock()
	p.transmits = append(p.transmits, b)
	p.rmu.Unlock()
}

func (p *ioProv) disconnectEx(s wsa.Socket, ov *wsa.Overlapped, flags, reserved uint32) error {
	if _, err := p.sock(s); err != nil {
		return err
	}
	p.record([]byte("disconnect"))
	if ov != nil {
		p.complete(s, ov, nil, nil, 0, 0)
	}
	return nil
}

func (p *ioProv) transmitFile(s wsa.Socket, file *os.File, bytesToWrite, bytesPerSend uint32, ov *wsa.Overlapped, buffers *wsa.TransmitFileBuffers, flags uint32) error {
	if _, err := p.sock(s); err != nil {
		return err
	}
	var b []byte
	if buffers != nil {
		b = append(append(b, buffers.Head...), buffers.Tail...)
	}
	p.record(b)
	if ov != nil {
		p.complete(s, ov, nil, nil, 0, uint32(len(b)))
	}
	return nil
}

func (p *ioProv) transmitPackets(s wsa.Socket, elements []wsa.TransmitPacketsElement, sendSize uint32, ov *wsa.Overlapped, flags uint32) error {
	if _, err := p.sock(s); err != nil {
		return err
	}
	var b []byte
	for _, e := range elements {
		if e.Flags&wsa.TP_ELEMENT_MEMORY != 0 {
			b = append(b, e.Buffer...)
		}
	}
	p.record(b)
	if ov != nil {
		p.complete(s, ov, nil, nil, 0, uint32(len(b)))
	}
	return nil
}

func (p *ioProv) sendMsg(s wsa.Socket, msg *wsa.WSAMsg, flags uint32, sent *uint32, ov *wsa.Overlapped, cr wsa.CompletionRoutine) error {
	tid, err := p.up.WPUOpenCurrentThread()
	if err != nil {
		return err
	}
	n, err := p.send(s, msg.Buffers, nil, nil, nil)
	if err != nil {
		return err
	}
	*sent = n
	if ov != nil {
		p.complete(s, ov, cr, &tid, 0, n)
	}
	return nil
}

// recvMsg receives a chunk with an IP_PKTINFO control message.
func (p *ioProv) recvMsg(s wsa.Socket, msg *wsa.WSAMsg, recvd *uint32, ov *wsa.Overlapped, cr wsa.CompletionRoutine) error {
	tid, err := p.up.WPUOpenCurrentThread()
	if err != nil {
		return err
	}
	take := func(fs *fakeSock, data []byte) uint32 {
		msg.Name = fs.peerAddr
		info := wsa.InPktinfo{Addr: [4]byte{127, 0, 0, 1}, Ifindex: 1}
		msg.Control = wsa.CmsgAppend(msg.Control[:0], wsa.IPPROTO_IP, wsa.IP_PKTINFO, info.Marshal())
		msg.Flags = 0
		return copyTo(msg.Buffers, data)
	}
	if ov == nil {
		fs, err := p.sock(s)
		if err != nil {
			return err
		}
		*recvd = take(fs, <-fs.rx)
		return nil
	}
	n, err := p.recvOv(s, ov, cr, &tid, take)
	if err == nil || err == wsa.WSAEMSGSIZE {
		*recvd = n
	}
	return err
}
