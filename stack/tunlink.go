package stack

import (
	"errors"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/stack"

	"github.com/ws2go/ws2/tun"
)

// tunEndpoint is a gVisor link endpoint over a tun.Device: layer 3, no link
// header, no link-address resolution.
//
// Inbound, one goroutine (started by the first Attach) reads batches of up
// to dev.BatchSize() packets straight into pooled gVisor views and delivers
// each to the stack by its IP version, without copying. With the offload
// driver a batch is the MTU-sized packets of one GSO super-packet the
// kernel sent.
//
// Outbound, with the plain driver WritePackets copies each packet into one
// contiguous view and writes the batch with dev.Write; gVisor's default NIC
// queueing hands it one packet at a time. With the offload driver the NIC
// gets a fifo queueing discipline (see AddTUN), whose goroutine hands
// WritePackets whatever has queued up, and WritePackets copies each packet
// behind dev.Headroom() bytes into a buffer with room for a whole
// super-packet, so that the driver's GRO can merge the segments of a flow
// into one write.
//
// Checksums stay with gVisor in both directions (Capabilities is 0): GRO
// only merges packets whose checksums are valid, and the driver does not
// say which received packets the kernel had checksummed, so gVisor must
// verify them.
//
// The endpoint owns the device: stop (from Attach(nil) or Close) closes it,
// which ends the reader.
type tunEndpoint struct {
	dev *tun.Device
	mtu atomic.Uint32

	mu         sync.RWMutex
	dispatcher stack.NetworkDispatcher // nil when detached
	started    bool                    // reader goroutine started

	wg       sync.WaitGroup // the reader
	stopOnce sync.Once
	done     chan struct{} // closed by stop

	offload  bool // dev.Offload()
	headroom int  // dev.Headroom()

	writePool sync.Pool // *writeBatch
}

var _ stack.LinkEndpoint = (*tunEndpoint)(nil)

// writeBatch is scratch space for one WritePackets call.
type writeBatch struct {
	views []*buffer.View // plain driver
	slabs [][]byte       // offload driver: len == cap == headroom+tun.MaxPacketSize
	bufs  [][]byte
}

func newTUNEndpoint(dev *tun.Device) *tunEndpoint {
	e := &tunEndpoint{dev: dev, done: make(chan struct{}), offload: dev.Offload(), headroom: dev.Headroom()}
	e.mtu.Store(uint32(dev.MTU()))
	e.writePool.New = func() any { return new(writeBatch) }
	return e
}

// stop closes the device (ending the reader) once. It does not wait.
func (e *tunEndpoint) stop() {
	e.stopOnce.Do(func() {
		close(e.done)
		e.dev.Close()
	})
}

// readLoop reads from the device until it is closed.
func (e *tunEndpoint) readLoop() {
	defer e.wg.Done()
	n := e.dev.BatchSize()
	views := make([]*buffer.View, n)
	bufs := make([][]byte, n)
	sizes := make([]int, n)
	defer func() {
		for _, v := range views {
			if v != nil {
				v.Release()
			}
		}
	}()
	backoff := time.Duration(0)
	for {
		size := int(e.mtu.Load())
		if e.offload {
			// The driver splits super-packets into segments as large as
			// the kernel's MTU, and drops one that does not fit.
			size = max(size, e.dev.MTU())
		}
		for i := range views {
			if views[i] != nil && views[i].Size() != size {
				views[i].Release()
				views[i] = nil
			}
			if views[i] == nil {
				views[i] = buffer.NewViewSize(size)
				bufs[i] = views[i].AsSlice()
			}
		}
		k, err := e.dev.Read(bufs, sizes, 0)
		if err != nil {
			if errors.Is(err, os.ErrClosed) || errors.Is(err, syscall.EBADFD) {
				return // closed, or the interface was deleted under us
			}
			// Anything else is unexpected; retry without spinning.
			backoff = min(max(2*backoff, time.Millisecond), 100*time.Millisecond)
			select {
			case <-e.done:
				return
			case <-time.After(backoff):
			}
			continue
		}
		backoff = 0
		e.mu.RLock()
		d := e.dispatcher
		e.mu.RUnlock()
		for i := 0; i < k; i++ {
			v := views[i]
			views[i] = nil
			proto, ok := ipProtocol(v.AsSlice()[:sizes[i]])
			if d == nil || !ok {
				v.Release()
				continue
			}
			v.CapLength(sizes[i])
			pkt := stack.NewPacketBuffer(stack.PacketBufferOptions{Payload: buffer.MakeWithView(v)})
			d.DeliverNetworkPacket(proto, pkt)
			pkt.DecRef()
		}
	}
}

// ipProtocol returns the network protocol of a raw IP packet from its
// version nibble.
func ipProtocol(b []byte) (tcpip.NetworkProtocolNumber, bool) {
	if len(b) == 0 {
		return 0, false
	}
	switch header.IPVersion(b) {
	case header.IPv4Version:
		return header.IPv4ProtocolNumber, true
	case header.IPv6Version:
		return header.IPv6ProtocolNumber, true
	}
	return 0, false
}

// WritePackets implements stack.LinkWriter. A packet the kernel refuses is
// dropped, as a link drops a frame, and not counted as written. Once the
// device is closed it returns ErrClosedForSend.
func (e *tunEndpoint) WritePackets(pkts stack.PacketBufferList) (int, tcpip.Error) {
	if e.offload {
		return e.writeOffload(pkts)
	}
	all := pkts.AsSlice()
	wb := e.writePool.Get().(*writeBatch)
	for _, pkt := range all {
		v := pkt.ToView()
		wb.views = append(wb.views, v)
		wb.bufs = append(wb.bufs, v.AsSlice())
	}
	sent, next := 0, 0
	var terr tcpip.Error
	for next < len(wb.bufs) {
		n, err := e.dev.Write(wb.bufs[next:], 0)
		sent += n
		next += n
		if err == nil {
			break
		}
		if errors.Is(err, os.ErrClosed) {
			terr = &tcpip.ErrClosedForSend{}
			break
		}
		next++ // the refused packet: dropped
	}
	for i, v := range wb.views {
		v.Release()
		wb.views[i] = nil
		wb.bufs[i] = nil
	}
	wb.views, wb.bufs = wb.views[:0], wb.bufs[:0]
	e.writePool.Put(wb)
	return sent, terr
}

// writeOffload is WritePackets for the offload driver: one dev.Write for
// the whole batch, which GRO may turn into fewer, larger writes.
func (e *tunEndpoint) writeOffload(pkts stack.PacketBufferList) (int, tcpip.Error) {
	all := pkts.AsSlice()
	if len(all) == 0 {
		return 0, nil
	}
	wb := e.writePool.Get().(*writeBatch)
	for i, pkt := range all {
		if i == len(wb.slabs) {
			wb.slabs = append(wb.slabs, make([]byte, e.headroom+tun.MaxPacketSize))
		}
		b := wb.slabs[i][:e.headroom]
		for _, s := range pkt.AsSlices() {
			b = append(b, s...)
		}
		wb.bufs = append(wb.bufs, b)
	}
	n, err := e.dev.Write(wb.bufs, e.headroom)
	var terr tcpip.Error
	if err != nil && errors.Is(err, os.ErrClosed) {
		terr = &tcpip.ErrClosedForSend{}
	}
	clear(wb.bufs)
	wb.bufs = wb.bufs[:0]
	e.writePool.Put(wb)
	return n, terr
}

// Attach implements stack.NetworkLinkEndpoint. The first non-nil dispatcher
// starts the reader; nil (the NIC is being removed) stops it by closing
// the device, without waiting: gVisor calls this with its NIC lock held,
// and the reader may need that lock to finish delivering a packet.
func (e *tunEndpoint) Attach(d stack.NetworkDispatcher) {
	e.mu.Lock()
	e.dispatcher = d
	start := d != nil && !e.started
	if start {
		e.started = true
		e.wg.Add(1)
	}
	e.mu.Unlock()
	if start {
		go e.readLoop()
	}
	if d == nil {
		e.stop()
	}
}

// IsAttached implements stack.NetworkLinkEndpoint.
func (e *tunEndpoint) IsAttached() bool {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.dispatcher != nil
}

// MTU implements stack.NetworkLinkEndpoint.
func (e *tunEndpoint) MTU() uint32 { return e.mtu.Load() }

// SetMTU implements stack.NetworkLinkEndpoint. It changes the stack's view
// (and the read buffer size), not the kernel interface's MTU.
func (e *tunEndpoint) SetMTU(mtu uint32) { e.mtu.Store(mtu) }

// MaxHeaderLength implements stack.NetworkLinkEndpoint: no link header.
func (*tunEndpoint) MaxHeaderLength() uint16 { return 0 }

// LinkAddress implements stack.NetworkLinkEndpoint: a TUN has none.
func (*tunEndpoint) LinkAddress() tcpip.LinkAddress { return "" }

// SetLinkAddress implements stack.NetworkLinkEndpoint; it is ignored.
func (*tunEndpoint) SetLinkAddress(tcpip.LinkAddress) {}

// Capabilities implements stack.NetworkLinkEndpoint: no offloads; checksums
// are computed and verified by the stack.
func (*tunEndpoint) Capabilities() stack.LinkEndpointCapabilities { return 0 }

// Wait implements stack.NetworkLinkEndpoint: it waits for the reader to
// exit. Only meaningful after stop.
func (e *tunEndpoint) Wait() { e.wg.Wait() }

// ARPHardwareType implements stack.NetworkLinkEndpoint.
func (*tunEndpoint) ARPHardwareType() header.ARPHardwareType { return header.ARPHardwareNone }

// AddHeader implements stack.NetworkLinkEndpoint: no link header.
func (*tunEndpoint) AddHeader(*stack.PacketBuffer) {}

// ParseHeader implements stack.NetworkLinkEndpoint: no link header.
func (*tunEndpoint) ParseHeader(*stack.PacketBuffer) bool { return true }

// Close implements stack.NetworkLinkEndpoint: it closes the device and
// waits for the reader. gVisor calls it without its locks held.
func (e *tunEndpoint) Close() {
	e.stop()
	e.wg.Wait()
}

// SetOnCloseAction implements stack.NetworkLinkEndpoint. The endpoint never
// closes on its own (a dead device just stops delivering), so there is
// nothing to run.
func (*tunEndpoint) SetOnCloseAction(func()) {}
