package trace

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/wsa"
)

// table is one started instance of the layer: every routine forwards
// through the embedded PassThrough and logs.
type table struct {
	*provider.PassThrough
	t *Tracer
}

var (
	_ provider.ProcTable              = (*table)(nil)
	_ provider.AcceptExWrapper        = (*table)(nil)
	_ provider.ConnectExWrapper       = (*table)(nil)
	_ provider.DisconnectExWrapper    = (*table)(nil)
	_ provider.TransmitFileWrapper    = (*table)(nil)
	_ provider.TransmitPacketsWrapper = (*table)(nil)
	_ provider.WSARecvMsgWrapper      = (*table)(nil)
	_ provider.WSASendMsgWrapper      = (*table)(nil)
)

// on reports whether records are wanted at all.
func (x *table) on() bool { return x.t.log.Enabled(context.Background(), x.t.cfg.Level) }

// emit writes one record: op, the socket (if any), attrs, the error (if
// any) and the duration since start.
func (x *table) emit(op string, s wsa.Socket, start time.Time, err error, attrs ...slog.Attr) {
	a := make([]slog.Attr, 0, len(attrs)+3)
	if s != 0 {
		a = append(a, slog.Uint64("socket", uint64(s)))
	}
	a = append(a, attrs...)
	if err != nil {
		a = append(a, slog.String("err", errName(err)))
	}
	a = append(a, slog.Duration("dur", time.Since(start)))
	x.t.log.LogAttrs(context.Background(), x.t.cfg.Level, op, a...)
}

func errName(err error) string {
	var e wsa.Errno
	if errors.As(err, &e) {
		if n := e.Name(); n != "" {
			return n
		}
		return fmt.Sprintf("error %d", uint32(e))
	}
	return err.Error()
}

func size(bufs [][]byte) int {
	n := 0
	for _, b := range bufs {
		n += len(b)
	}
	return n
}

func addr(key string, sa wsa.Sockaddr) slog.Attr {
	if sa == nil {
		return slog.String(key, "")
	}
	return slog.String(key, wsa.FormatSockaddr(sa))
}

func hex(key string, v uint32) slog.Attr { return slog.String(key, fmt.Sprintf("%#x", v)) }

func ovAttr(ov *wsa.Overlapped, cr wsa.CompletionRoutine) slog.Attr {
	return slog.Bool("overlapped", ov != nil || cr != nil)
}

func ioAttrs(bufs [][]byte, flags uint32, ov *wsa.Overlapped, cr wsa.CompletionRoutine) []slog.Attr {
	return []slog.Attr{slog.Int("bytes", size(bufs)), slog.Int("bufs", len(bufs)), hex("flags", flags), ovAttr(ov, cr)}
}

func fdCount(f *wsa.FdSet) int {
	if f == nil {
		return 0
	}
	return len(f.Array)
}

func (x *table) WSPAccept(s wsa.Socket, cond wsa.ConditionProc, callbackData uintptr) (wsa.Socket, wsa.Sockaddr, error) {
	if !x.on() {
		return x.PassThrough.WSPAccept(s, cond, callbackData)
	}
	start := time.Now()
	h, sa, err := x.PassThrough.WSPAccept(s, cond, callbackData)
	x.emit("WSPAccept", s, start, err, slog.Bool("condition", cond != nil), slog.Uint64("new", uint64(h)), addr("peer", sa))
	return h, sa, err
}

func (x *table) WSPAddressToString(a wsa.Sockaddr, info *wsa.ProtocolInfo) (string, error) {
	if !x.on() {
		return x.PassThrough.WSPAddressToString(a, info)
	}
	start := time.Now()
	str, err := x.PassThrough.WSPAddressToString(a, info)
	x.emit("WSPAddressToString", 0, start, err, slog.Int("family", int(familyOf(a))), slog.String("string", str))
	return str, err
}

func familyOf(sa wsa.Sockaddr) int32 {
	if sa == nil {
		return 0
	}
	return sa.Family()
}

func (x *table) WSPAsyncSelect(s wsa.Socket, hwnd wsa.Handle, msg uint32, events int32) error {
	if !x.on() {
		return x.PassThrough.WSPAsyncSelect(s, hwnd, msg, events)
	}
	start := time.Now()
	err := x.PassThrough.WSPAsyncSelect(s, hwnd, msg, events)
	x.emit("WSPAsyncSelect", s, start, err, slog.Uint64("hwnd", uint64(hwnd)), hex("msg", msg), hex("events", uint32(events)))
	return err
}

func (x *table) WSPBind(s wsa.Socket, name wsa.Sockaddr) error {
	if !x.on() {
		return x.PassThrough.WSPBind(s, name)
	}
	start := time.Now()
	err := x.PassThrough.WSPBind(s, name)
	x.emit("WSPBind", s, start, err, addr("name", name))
	return err
}

func (x *table) WSPCancelBlockingCall() error {
	if !x.on() {
		return x.PassThrough.WSPCancelBlockingCall()
	}
	start := time.Now()
	err := x.PassThrough.WSPCancelBlockingCall()
	x.emit("WSPCancelBlockingCall", 0, start, err)
	return err
}

func (x *table) WSPCleanup() error {
	if !x.on() {
		return x.PassThrough.WSPCleanup()
	}
	start := time.Now()
	err := x.PassThrough.WSPCleanup()
	x.emit("WSPCleanup", 0, start, err)
	return err
}

func (x *table) WSPCloseSocket(s wsa.Socket) error {
	if !x.on() {
		return x.PassThrough.WSPCloseSocket(s)
	}
	start := time.Now()
	err := x.PassThrough.WSPCloseSocket(s)
	x.emit("WSPCloseSocket", s, start, err)
	return err
}

func (x *table) WSPConnect(s wsa.Socket, name wsa.Sockaddr, callerData, calleeData []byte, sqos, gqos *wsa.QOS) error {
	if !x.on() {
		return x.PassThrough.WSPConnect(s, name, callerData, calleeData, sqos, gqos)
	}
	start := time.Now()
	err := x.PassThrough.WSPConnect(s, name, callerData, calleeData, sqos, gqos)
	x.emit("WSPConnect", s, start, err, addr("name", name), slog.Int("callerData", len(callerData)), slog.Bool("qos", sqos != nil || gqos != nil))
	return err
}

func (x *table) WSPDuplicateSocket(s wsa.Socket, processID uint32) (wsa.ProtocolInfo, error) {
	if !x.on() {
		return x.PassThrough.WSPDuplicateSocket(s, processID)
	}
	start := time.Now()
	p, err := x.PassThrough.WSPDuplicateSocket(s, processID)
	x.emit("WSPDuplicateSocket", s, start, err, slog.Uint64("process", uint64(processID)))
	return p, err
}

func (x *table) WSPEnumNetworkEvents(s wsa.Socket, event wsa.Handle) (wsa.NetworkEvents, error) {
	if !x.on() {
		return x.PassThrough.WSPEnumNetworkEvents(s, event)
	}
	start := time.Now()
	ne, err := x.PassThrough.WSPEnumNetworkEvents(s, event)
	x.emit("WSPEnumNetworkEvents", s, start, err, slog.Uint64("event", uint64(event)), hex("events", uint32(ne.NetworkEvents)))
	return ne, err
}

func (x *table) WSPEventSelect(s wsa.Socket, event wsa.Handle, events int32) error {
	if !x.on() {
		return x.PassThrough.WSPEventSelect(s, event, events)
	}
	start := time.Now()
	err := x.PassThrough.WSPEventSelect(s, event, events)
	x.emit("WSPEventSelect", s, start, err, slog.Uint64("event", uint64(event)), hex("events", uint32(events)))
	return err
}

func (x *table) WSPGetOverlappedResult(s wsa.Socket, ov *wsa.Overlapped, wait bool) (uint32, uint32, error) {
	if !x.on() {
		return x.PassThrough.WSPGetOverlappedResult(s, ov, wait)
	}
	start := time.Now()
	n, flags, err := x.PassThrough.WSPGetOverlappedResult(s, ov, wait)
	x.emit("WSPGetOverlappedResult", s, start, err, slog.Bool("wait", wait), slog.Uint64("n", uint64(n)), hex("flags", flags))
	return n, flags, err
}

func (x *table) WSPGetPeerName(s wsa.Socket) (wsa.Sockaddr, error) {
	if !x.on() {
		return x.PassThrough.WSPGetPeerName(s)
	}
	start := time.Now()
	sa, err := x.PassThrough.WSPGetPeerName(s)
	x.emit("WSPGetPeerName", s, start, err, addr("name", sa))
	return sa, err
}

func (x *table) WSPGetSockName(s wsa.Socket) (wsa.Sockaddr, error) {
	if !x.on() {
		return x.PassThrough.WSPGetSockName(s)
	}
	start := time.Now()
	sa, err := x.PassThrough.WSPGetSockName(s)
	x.emit("WSPGetSockName", s, start, err, addr("name", sa))
	return sa, err
}

func (x *table) WSPGetSockOpt(s wsa.Socket, level, optname int32, optval []byte) (int32, error) {
	if !x.on() {
		return x.PassThrough.WSPGetSockOpt(s, level, optname, optval)
	}
	start := time.Now()
	n, err := x.PassThrough.WSPGetSockOpt(s, level, optname, optval)
	x.emit("WSPGetSockOpt", s, start, err, hex("level", uint32(level)), hex("optname", uint32(optname)), slog.Int("optlen", len(optval)), slog.Int("n", int(n)))
	return n, err
}

func (x *table) WSPGetQOSByName(s wsa.Socket, name []byte) (*wsa.QOS, error) {
	if !x.on() {
		return x.PassThrough.WSPGetQOSByName(s, name)
	}
	start := time.Now()
	q, err := x.PassThrough.WSPGetQOSByName(s, name)
	x.emit("WSPGetQOSByName", s, start, err, slog.Int("len", len(name)))
	return q, err
}

func (x *table) WSPIoctl(s wsa.Socket, code uint32, in, out []byte, ov *wsa.Overlapped, cr wsa.CompletionRoutine, tid *provider.ThreadID) (uint32, error) {
	if !x.on() {
		return x.PassThrough.WSPIoctl(s, code, in, out, ov, cr, tid)
	}
	start := time.Now()
	n, err := x.PassThrough.WSPIoctl(s, code, in, out, ov, cr, tid)
	x.emit("WSPIoctl", s, start, err, hex("code", code), slog.Int("in", len(in)), slog.Int("out", len(out)), ovAttr(ov, cr), slog.Uint64("n", uint64(n)))
	return n, err
}

func (x *table) WSPJoinLeaf(s wsa.Socket, name wsa.Sockaddr, callerData, calleeData []byte, sqos, gqos *wsa.QOS, flags uint32) (wsa.Socket, error) {
	if !x.on() {
		return x.PassThrough.WSPJoinLeaf(s, name, callerData, calleeData, sqos, gqos, flags)
	}
	start := time.Now()
	h, err := x.PassThrough.WSPJoinLeaf(s, name, callerData, calleeData, sqos, gqos, flags)
	x.emit("WSPJoinLeaf", s, start, err, addr("name", name), hex("flags", flags), slog.Uint64("new", uint64(h)))
	return h, err
}

func (x *table) WSPListen(s wsa.Socket, backlog int32) error {
	if !x.on() {
		return x.PassThrough.WSPListen(s, backlog)
	}
	start := time.Now()
	err := x.PassThrough.WSPListen(s, backlog)
	x.emit("WSPListen", s, start, err, slog.Int("backlog", int(backlog)))
	return err
}

func (x *table) WSPRecv(s wsa.Socket, bufs [][]byte, flags *uint32, ov *wsa.Overlapped, cr wsa.CompletionRoutine, tid *provider.ThreadID) (uint32, error) {
	if !x.on() {
		return x.PassThrough.WSPRecv(s, bufs, flags, ov, cr, tid)
	}
	var in uint32
	if flags != nil {
		in = *flags
	}
	start := time.Now()
	n, err := x.PassThrough.WSPRecv(s, bufs, flags, ov, cr, tid)
	x.emit("WSPRecv", s, start, err, append(ioAttrs(bufs, in, ov, cr), slog.Uint64("n", uint64(n)))...)
	return n, err
}

func (x *table) WSPRecvDisconnect(s wsa.Socket, data []byte) error {
	if !x.on() {
		return x.PassThrough.WSPRecvDisconnect(s, data)
	}
	start := time.Now()
	err := x.PassThrough.WSPRecvDisconnect(s, data)
	x.emit("WSPRecvDisconnect", s, start, err, slog.Int("len", len(data)))
	return err
}

func (x *table) WSPRecvFrom(s wsa.Socket, bufs [][]byte, flags *uint32, from *wsa.Sockaddr, ov *wsa.Overlapped, cr wsa.CompletionRoutine, tid *provider.ThreadID) (uint32, error) {
	if !x.on() {
		return x.PassThrough.WSPRecvFrom(s, bufs, flags, from, ov, cr, tid)
	}
	var in uint32
	if flags != nil {
		in = *flags
	}
	start := time.Now()
	n, err := x.PassThrough.WSPRecvFrom(s, bufs, flags, from, ov, cr, tid)
	a := append(ioAttrs(bufs, in, ov, cr), slog.Uint64("n", uint64(n)))
	if from != nil && ov == nil && cr == nil {
		a = append(a, addr("from", *from))
	}
	x.emit("WSPRecvFrom", s, start, err, a...)
	return n, err
}

func (x *table) WSPSelect(readfds, writefds, exceptfds *wsa.FdSet, timeout *wsa.Timeval) (int32, error) {
	if !x.on() {
		return x.PassThrough.WSPSelect(readfds, writefds, exceptfds, timeout)
	}
	start := time.Now()
	r, w, e := fdCount(readfds), fdCount(writefds), fdCount(exceptfds)
	n, err := x.PassThrough.WSPSelect(readfds, writefds, exceptfds, timeout)
	to := "none"
	if timeout != nil {
		to = (time.Duration(timeout.Sec)*time.Second + time.Duration(timeout.Usec)*time.Microsecond).String()
	}
	x.emit("WSPSelect", 0, start, err, slog.Int("read", r), slog.Int("write", w), slog.Int("except", e), slog.String("timeout", to), slog.Int("n", int(n)))
	return n, err
}

func (x *table) WSPSend(s wsa.Socket, bufs [][]byte, flags uint32, ov *wsa.Overlapped, cr wsa.CompletionRoutine, tid *provider.ThreadID) (uint32, error) {
	if !x.on() {
		return x.PassThrough.WSPSend(s, bufs, flags, ov, cr, tid)
	}
	start := time.Now()
	n, err := x.PassThrough.WSPSend(s, bufs, flags, ov, cr, tid)
	x.emit("WSPSend", s, start, err, append(ioAttrs(bufs, flags, ov, cr), slog.Uint64("n", uint64(n)))...)
	return n, err
}

func (x *table) WSPSendDisconnect(s wsa.Socket, data []byte) error {
	if !x.on() {
		return x.PassThrough.WSPSendDisconnect(s, data)
	}
	start := time.Now()
	err := x.PassThrough.WSPSendDisconnect(s, data)
	x.emit("WSPSendDisconnect", s, start, err, slog.Int("len", len(data)))
	return err
}

func (x *table) WSPSendTo(s wsa.Socket, bufs [][]byte, flags uint32, to wsa.Sockaddr, ov *wsa.Overlapped, cr wsa.CompletionRoutine, tid *provider.ThreadID) (uint32, error) {
	if !x.on() {
		return x.PassThrough.WSPSendTo(s, bufs, flags, to, ov, cr, tid)
	}
	start := time.Now()
	n, err := x.PassThrough.WSPSendTo(s, bufs, flags, to, ov, cr, tid)
	x.emit("WSPSendTo", s, start, err, append(ioAttrs(bufs, flags, ov, cr), addr("to", to), slog.Uint64("n", uint64(n)))...)
	return n, err
}

func (x *table) WSPSetSockOpt(s wsa.Socket, level, optname int32, optval []byte) error {
	if !x.on() {
		return x.PassThrough.WSPSetSockOpt(s, level, optname, optval)
	}
	start := time.Now()
	err := x.PassThrough.WSPSetSockOpt(s, level, optname, optval)
	x.emit("WSPSetSockOpt", s, start, err, hex("level", uint32(level)), hex("optname", uint32(optname)), slog.Int("optlen", len(optval)))
	return err
}

func (x *table) WSPShutdown(s wsa.Socket, how int32) error {
	if !x.on() {
		return x.PassThrough.WSPShutdown(s, how)
	}
	start := time.Now()
	err := x.PassThrough.WSPShutdown(s, how)
	x.emit("WSPShutdown", s, start, err, slog.Int("how", int(how)))
	return err
}

func (x *table) WSPSocket(af, typ, protocol int32, info *wsa.ProtocolInfo, g uint32, flags uint32) (wsa.Socket, error) {
	if !x.on() {
		return x.PassThrough.WSPSocket(af, typ, protocol, info, g, flags)
	}
	start := time.Now()
	h, err := x.PassThrough.WSPSocket(af, typ, protocol, info, g, flags)
	a := []slog.Attr{slog.Int("af", int(af)), slog.Int("type", int(typ)), slog.Int("protocol", int(protocol)), hex("flags", flags), slog.Uint64("new", uint64(h))}
	if info != nil {
		a = append(a, slog.Uint64("entry", uint64(info.CatalogEntryId)))
	}
	x.emit("WSPSocket", 0, start, err, a...)
	return h, err
}

func (x *table) WSPStringToAddress(str string, af int32, info *wsa.ProtocolInfo) (wsa.Sockaddr, error) {
	if !x.on() {
		return x.PassThrough.WSPStringToAddress(str, af, info)
	}
	start := time.Now()
	sa, err := x.PassThrough.WSPStringToAddress(str, af, info)
	x.emit("WSPStringToAddress", 0, start, err, slog.String("string", str), slog.Int("af", int(af)), addr("addr", sa))
	return sa, err
}

func (x *table) WSPPoll(fds []wsa.PollFd, timeout int32) (int32, error) {
	if !x.on() {
		return x.PassThrough.WSPPoll(fds, timeout)
	}
	start := time.Now()
	n, err := x.PassThrough.WSPPoll(fds, timeout)
	x.emit("WSPPoll", 0, start, err, slog.Int("fds", len(fds)), slog.Int("timeout", int(timeout)), slog.Int("n", int(n)))
	return n, err
}

func (x *table) WSPCancelIo(s wsa.Socket, ov *wsa.Overlapped) error {
	if !x.on() {
		return x.PassThrough.WSPCancelIo(s, ov)
	}
	start := time.Now()
	err := x.PassThrough.WSPCancelIo(s, ov)
	x.emit("WSPCancelIo", s, start, err, slog.Bool("all", ov == nil))
	return err
}

// The extension functions.

func (x *table) WrapAcceptEx(lower provider.AcceptExFunc) provider.AcceptExFunc {
	return func(listen, accept wsa.Socket, buf []byte, rx, ll, rl uint32, n *uint32, ov *wsa.Overlapped) error {
		if !x.on() {
			return lower(listen, accept, buf, rx, ll, rl, n, ov)
		}
		start := time.Now()
		err := lower(listen, accept, buf, rx, ll, rl, n, ov)
		a := []slog.Attr{slog.Uint64("accept", uint64(accept)), slog.Int("receive", int(rx)), ovAttr(ov, nil)}
		if err == nil && n != nil {
			a = append(a, slog.Uint64("n", uint64(*n)))
		}
		x.emit("AcceptEx", listen, start, err, a...)
		return err
	}
}

func (x *table) WrapConnectEx(lower provider.ConnectExFunc) provider.ConnectExFunc {
	return func(s wsa.Socket, name wsa.Sockaddr, sendBuf []byte, sent *uint32, ov *wsa.Overlapped) error {
		if !x.on() {
			return lower(s, name, sendBuf, sent, ov)
		}
		start := time.Now()
		err := lower(s, name, sendBuf, sent, ov)
		x.emit("ConnectEx", s, start, err, addr("name", name), slog.Int("bytes", len(sendBuf)), ovAttr(ov, nil))
		return err
	}
}

func (x *table) WrapDisconnectEx(lower provider.DisconnectExFunc) provider.DisconnectExFunc {
	return func(s wsa.Socket, ov *wsa.Overlapped, flags, reserved uint32) error {
		if !x.on() {
			return lower(s, ov, flags, reserved)
		}
		start := time.Now()
		err := lower(s, ov, flags, reserved)
		x.emit("DisconnectEx", s, start, err, hex("flags", flags), ovAttr(ov, nil))
		return err
	}
}

func (x *table) WrapTransmitFile(lower provider.TransmitFileFunc) provider.TransmitFileFunc {
	return func(s wsa.Socket, file *os.File, n, perSend uint32, ov *wsa.Overlapped, bufs *wsa.TransmitFileBuffers, flags uint32) error {
		if !x.on() {
			return lower(s, file, n, perSend, ov, bufs, flags)
		}
		start := time.Now()
		err := lower(s, file, n, perSend, ov, bufs, flags)
		head, tail := 0, 0
		if bufs != nil {
			head, tail = len(bufs.Head), len(bufs.Tail)
		}
		x.emit("TransmitFile", s, start, err, slog.Bool("file", file != nil), slog.Uint64("bytes", uint64(n)),
			slog.Uint64("perSend", uint64(perSend)), slog.Int("head", head), slog.Int("tail", tail), hex("flags", flags), ovAttr(ov, nil))
		return err
	}
}

func (x *table) WrapTransmitPackets(lower provider.TransmitPacketsFunc) provider.TransmitPacketsFunc {
	return func(s wsa.Socket, elements []wsa.TransmitPacketsElement, sendSize uint32, ov *wsa.Overlapped, flags uint32) error {
		if !x.on() {
			return lower(s, elements, sendSize, ov, flags)
		}
		start := time.Now()
		err := lower(s, elements, sendSize, ov, flags)
		x.emit("TransmitPackets", s, start, err, slog.Int("elements", len(elements)), slog.Uint64("sendSize", uint64(sendSize)), hex("flags", flags), ovAttr(ov, nil))
		return err
	}
}

func (x *table) WrapWSARecvMsg(lower provider.WSARecvMsgFunc) provider.WSARecvMsgFunc {
	return func(s wsa.Socket, msg *wsa.WSAMsg, n *uint32, ov *wsa.Overlapped, cr wsa.CompletionRoutine) error {
		if !x.on() {
			return lower(s, msg, n, ov, cr)
		}
		start := time.Now()
		var bufs [][]byte
		var ctl int
		if msg != nil {
			bufs, ctl = msg.Buffers, len(msg.Control)
		}
		err := lower(s, msg, n, ov, cr)
		a := []slog.Attr{slog.Int("bytes", size(bufs)), slog.Int("control", ctl), ovAttr(ov, cr)}
		if err == nil && ov == nil && msg != nil {
			a = append(a, addr("from", msg.Name), hex("msgFlags", msg.Flags))
			if n != nil {
				a = append(a, slog.Uint64("n", uint64(*n)))
			}
		}
		x.emit("WSARecvMsg", s, start, err, a...)
		return err
	}
}

func (x *table) WrapWSASendMsg(lower provider.WSASendMsgFunc) provider.WSASendMsgFunc {
	return func(s wsa.Socket, msg *wsa.WSAMsg, flags uint32, n *uint32, ov *wsa.Overlapped, cr wsa.CompletionRoutine) error {
		if !x.on() {
			return lower(s, msg, flags, n, ov, cr)
		}
		start := time.Now()
		a := []slog.Attr{hex("flags", flags), ovAttr(ov, cr)}
		if msg != nil {
			a = append(a, slog.Int("bytes", size(msg.Buffers)), slog.Int("control", len(msg.Control)), addr("to", msg.Name))
		}
		err := lower(s, msg, flags, n, ov, cr)
		if err == nil && n != nil {
			a = append(a, slog.Uint64("n", uint64(*n)))
		}
		x.emit("WSASendMsg", s, start, err, a...)
		return err
	}
}
