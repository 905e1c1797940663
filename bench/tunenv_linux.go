//go:build linux

package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime"
	"sync"
	"syscall"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/ws2go/ws2"
	"github.com/ws2go/ws2/stack"
	"github.com/ws2go/ws2/tun"
	"github.com/ws2go/ws2/wsnet"
)

// Addresses of the TUN paths, assigned only inside the namespaces the suite
// creates (198.18.0.0/15 is the benchmarking range), never in the machine's
// own namespace.
var (
	tunKernelAddr  = netip.MustParsePrefix("198.18.1.1/24") // kernel side of the TUN
	tunWS2Addr     = netip.MustParsePrefix("198.18.1.2/24") // the ws2 stack on it
	vethKernelAddr = netip.MustParsePrefix("198.18.2.1/24") // veth end where the TUN paths have the kernel
	vethPeerAddr   = netip.MustParsePrefix("198.18.2.2/24") // veth end where the TUN paths have ws2
)

// Interface names inside the namespaces.
const (
	tunIfName      = "ws2b0"
	vethKernelName = "ws2k0"
	vethPeerName   = "ws2w0"
)

// Namespaces are entered only by goroutines locked to their OS thread
// (runtime.LockOSThread), started for that purpose: each moves its thread
// into the namespace, creates what must live there (a socket or a TUN
// device stays in the namespace it was created in), and moves the thread
// back before unlocking it. If the thread cannot move back, the goroutine
// ends still locked and the runtime discards the thread, so no other
// goroutine ever runs in a namespace of the suite. Namespaces are held by
// file descriptors only (never named or mounted): once the descriptors and
// the sockets in them are closed, the kernel deletes them.

// currentNS returns a handle on the network namespace of the process's
// threads (taken from a locked thread that never left it).
func currentNS() (netns.NsHandle, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	return netns.Get()
}

// newNS creates a network namespace and returns a handle on it, leaving the
// calling goroutine's thread where it was (orig).
func newNS(orig netns.NsHandle) (netns.NsHandle, error) {
	type res struct {
		h   netns.NsHandle
		err error
	}
	ch := make(chan res, 1)
	go func() {
		runtime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread() // the thread did not move
			ch <- res{-1, fmt.Errorf("unshare(CLONE_NEWNET): %w", err)}
			return
		}
		h, err := netns.Get()
		if serr := netns.Set(orig); serr != nil {
			if err == nil {
				h.Close()
			}
			// Still locked: the thread ends with this goroutine.
			ch <- res{-1, fmt.Errorf("back to the original namespace: %w", serr)}
			return
		}
		runtime.UnlockOSThread()
		ch <- res{h, err}
	}()
	r := <-ch
	return r.h, r.err
}

// inNS runs f on a fresh goroutine whose locked thread is inside ns, then
// moves the thread back to orig.
func inNS(ns, orig netns.NsHandle, f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := netns.Set(ns); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("setns: %w", err)
			return
		}
		err := f()
		if serr := netns.Set(orig); serr != nil {
			errc <- errors.Join(err, fmt.Errorf("back to the original namespace: %w", serr))
			return
		}
		runtime.UnlockOSThread()
		errc <- err
	}()
	return <-errc
}

var (
	tunProbeOnce   sync.Once
	tunProbeReason string
)

func tunUnavailable() string {
	tunProbeOnce.Do(func() { tunProbeReason = probeTUN() })
	return tunProbeReason
}

// probeTUN creates a namespace and opens /dev/net/tun inside it (without
// creating a device).
func probeTUN() string {
	orig, err := currentNS()
	if err != nil {
		return "cannot read this thread's network namespace: " + err.Error()
	}
	defer orig.Close()
	ns, err := newNS(orig)
	if err != nil {
		return "cannot create a network namespace (needs root or CAP_SYS_ADMIN): " + err.Error()
	}
	defer ns.Close()
	err = inNS(ns, orig, func() error {
		f, err := os.OpenFile("/dev/net/tun", os.O_RDWR, 0)
		if err != nil {
			return err
		}
		return f.Close()
	})
	if err != nil {
		return "no TUN driver: " + err.Error()
	}
	return ""
}

// side is one end of a TUN-family path: where servers listen and clients
// dial.
type side interface {
	listenTCP() (net.Listener, error)
	listenUDP() (net.PacketConn, error)
	dial(network, addr string) (net.Conn, error)
}

// kernelSide is Go's net on the kernel, with its sockets in namespace ns.
type kernelSide struct {
	ns, orig netns.NsHandle
	addr     netip.Addr
}

func (k kernelSide) listenTCP() (l net.Listener, err error) {
	err = inNS(k.ns, k.orig, func() error {
		l, err = net.Listen("tcp4", netip.AddrPortFrom(k.addr, 0).String())
		return err
	})
	return l, err
}

func (k kernelSide) listenUDP() (c net.PacketConn, err error) {
	err = inNS(k.ns, k.orig, func() error {
		c, err = net.ListenPacket("udp4", netip.AddrPortFrom(k.addr, 0).String())
		return err
	})
	return c, err
}

// dialTimeout bounds a connect on the TUN paths (a lost SYN would otherwise
// wait for the kernel's retries).
const dialTimeout = 10 * time.Second

// dial creates the socket inside the namespace but connects outside it: the
// dialer's Control hook, which runs between socket(2) and connect(2), moves
// the thread back and unlocks it, so a per-connection dial (ConnSetup) pays
// two setns calls, not a thread hand-off for every wake-up of the connect.
func (k kernelSide) dial(network, addr string) (net.Conn, error) {
	type res struct {
		c   net.Conn
		err error
	}
	ch := make(chan res, 1)
	go func() {
		runtime.LockOSThread()
		if err := netns.Set(k.ns); err != nil {
			runtime.UnlockOSThread()
			ch <- res{nil, fmt.Errorf("setns: %w", err)}
			return
		}
		inside := true
		leave := func() error {
			if !inside {
				return nil
			}
			if err := netns.Set(k.orig); err != nil {
				return fmt.Errorf("back to the original namespace: %w", err)
			}
			inside = false
			runtime.UnlockOSThread()
			return nil
		}
		d := net.Dialer{Timeout: dialTimeout, ControlContext: func(context.Context, string, string, syscall.RawConn) error { return leave() }}
		c, err := d.Dial(network, addr)
		if lerr := leave(); lerr != nil {
			// Still locked: the thread ends with this goroutine.
			if c != nil {
				c.Close()
			}
			ch <- res{nil, lerr}
			return
		}
		ch <- res{c, err}
	}()
	r := <-ch
	return r.c, r.err
}

// ws2Side is the api over the netstack provider of h, through wsnet.
type ws2Side struct {
	h    *ws2.Host
	addr netip.Addr
}

func (w ws2Side) listenTCP() (net.Listener, error) {
	return wsnet.Listen(w.h.Session, "tcp4", netip.AddrPortFrom(w.addr, 0).String())
}
func (w ws2Side) listenUDP() (net.PacketConn, error) {
	return wsnet.ListenPacket(w.h.Session, "udp4", netip.AddrPortFrom(w.addr, 0).String())
}
func (w ws2Side) dial(network, addr string) (net.Conn, error) {
	return wsnet.Dial(w.h.Session, network, addr)
}

// sidesEnv is an Env with clients on one side and servers on the other.
type sidesEnv struct {
	client, server side
	close          func() error
}

func (e *sidesEnv) ListenTCP() (net.Listener, error)   { return e.server.listenTCP() }
func (e *sidesEnv) ListenUDP() (net.PacketConn, error) { return e.server.listenUDP() }
func (e *sidesEnv) DialTCP(addr net.Addr) (net.Conn, error) {
	return e.client.dial("tcp4", addr.String())
}
func (e *sidesEnv) DialUDP(addr net.Addr) (net.Conn, error) {
	return e.client.dial("udp4", addr.String())
}
func (e *sidesEnv) Close() error { return e.close() }

// arrange returns the env with the kernel side k and the other side o
// placed by dir (on error the caller runs close).
func arrange(dir string, k, o side, close func() error) (*sidesEnv, error) {
	switch dir {
	case DirK2W:
		return &sidesEnv{client: k, server: o, close: close}, nil
	case DirW2K:
		return &sidesEnv{client: o, server: k, close: close}, nil
	}
	return nil, fmt.Errorf("bench: unknown direction %q", dir)
}

// NewTUNEnv sets up a TUN-family path (tun-water, tun-offload, veth) in
// direction dir (DirK2W, DirW2K) with the link MTU mtu, in namespaces of
// its own. Close removes the interfaces and releases the namespaces.
func NewTUNEnv(path, dir string, mtu uint32) (Env, error) {
	if mtu == 0 {
		mtu = 1500
	}
	if dir != DirK2W && dir != DirW2K {
		return nil, fmt.Errorf("bench: unknown direction %q", dir)
	}
	switch path {
	case PathTUNWater:
		return newTUNEnv(false, dir, mtu)
	case PathTUNOffload:
		if !offloadBuilt {
			return nil, errors.New("bench: tun-offload: this build's tun package has no offload path")
		}
		return newTUNEnv(true, dir, mtu)
	case PathVeth:
		return newVethEnv(dir, mtu)
	}
	return nil, fmt.Errorf("bench: unknown TUN path %q", path)
}

// cleanup runs closers in reverse order of registration.
type cleanup []func() error

func (c *cleanup) add(f func() error) { *c = append(*c, f) }
func (c cleanup) run() error {
	var errs []error
	for i := len(c) - 1; i >= 0; i-- {
		errs = append(errs, c[i]())
	}
	return errors.Join(errs...)
}

// closeNS returns a closer of the namespace handle h, which closes it once.
func closeNS(h netns.NsHandle) func() error {
	var once sync.Once
	var err error
	return func() error {
		once.Do(func() { err = h.Close() })
		return err
	}
}

// nlHandle opens a route-netlink handle inside ns.
func nlHandle(ns netns.NsHandle) (*netlink.Handle, error) {
	h, err := netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("netlink handle in namespace: %w", err)
	}
	return h, nil
}

// waitGone waits (at most 2 s) until the interface name no longer exists in
// the namespace of h.
func waitGone(h *netlink.Handle, name string) error {
	for t0 := time.Now(); ; time.Sleep(5 * time.Millisecond) {
		_, err := h.LinkByName(name)
		var nf netlink.LinkNotFoundError
		if errors.As(err, &nf) {
			return nil
		}
		if time.Since(t0) > 2*time.Second {
			return fmt.Errorf("bench: interface %s still present after close (%v)", name, err)
		}
	}
}

// newTUNEnv: one namespace holding the TUN device (kernel side 198.18.1.1)
// and the kernel's sockets; the ws2 stack (198.18.1.2) reads and writes the
// device from this process.
func newTUNEnv(offload bool, dir string, mtu uint32) (_ Env, err error) {
	var c cleanup
	defer func() {
		if err != nil {
			err = errors.Join(err, c.run())
		}
	}()
	orig, err := currentNS()
	if err != nil {
		return nil, err
	}
	c.add(closeNS(orig))
	ns, err := newNS(orig)
	if err != nil {
		return nil, err
	}
	c.add(closeNS(ns))
	nl, err := nlHandle(ns)
	if err != nil {
		return nil, err
	}
	c.add(func() error { nl.Close(); return nil })
	c.add(func() error { return waitGone(nl, tunIfName) })
	var dev *tun.Device
	err = inNS(ns, orig, func() error {
		d, err := tun.Open(tunConfig(int(mtu), offload))
		if err != nil {
			return err
		}
		if err = d.AddAddress(tunKernelAddr); err == nil {
			err = d.SetUp(true)
		}
		if err != nil {
			d.Close()
			return err
		}
		dev = d
		return nil
	})
	if err != nil {
		return nil, err
	}
	if ok, why := offloadActive(dev); offload && !ok {
		dev.Close()
		return nil, fmt.Errorf("bench: tun-offload: the device fell back to the plain driver: %v", why)
	}
	h, err := ws2.New(ws2.Options{})
	if err != nil {
		dev.Close()
		return nil, err
	}
	c.add(h.Close) // closes the stack, which closes the device
	if _, err := h.Stack.AddTUN(dev, stack.NICConfig{Name: dev.Name(), Addrs: []netip.Prefix{tunWS2Addr}, DefaultRoute: true}); err != nil {
		return nil, err
	}
	k := kernelSide{ns: ns, orig: orig, addr: tunKernelAddr.Addr()}
	return arrange(dir, k, ws2Side{h, tunWS2Addr.Addr()}, c.run)
}

// newVethEnv: two namespaces joined by a veth pair; the kernel end
// (198.18.2.1) where the TUN paths have the kernel, the peer end
// (198.18.2.2) where they have ws2.
func newVethEnv(dir string, mtu uint32) (_ Env, err error) {
	var c cleanup
	defer func() {
		if err != nil {
			err = errors.Join(err, c.run())
		}
	}()
	orig, err := currentNS()
	if err != nil {
		return nil, err
	}
	c.add(closeNS(orig))
	var ns [2]netns.NsHandle
	var nl [2]*netlink.Handle
	for i := range ns {
		if ns[i], err = newNS(orig); err != nil {
			return nil, err
		}
		c.add(closeNS(ns[i]))
		if nl[i], err = nlHandle(ns[i]); err != nil {
			return nil, err
		}
		c.add(func() error { nl[i].Close(); return nil })
	}
	veth := &netlink.Veth{
		LinkAttrs:     netlink.LinkAttrs{Name: vethKernelName, MTU: int(mtu)},
		PeerName:      vethPeerName,
		PeerNamespace: netlink.NsFd(ns[1]),
		PeerMTU:       mtu,
	}
	if err := nl[0].LinkAdd(veth); err != nil {
		return nil, fmt.Errorf("bench: add veth pair: %w", err)
	}
	// Deleting one end deletes the pair; then check both are gone.
	c.add(func() error {
		return errors.Join(waitGone(nl[0], vethKernelName), waitGone(nl[1], vethPeerName))
	})
	c.add(func() error {
		l, err := nl[0].LinkByName(vethKernelName)
		if err != nil {
			return err
		}
		return nl[0].LinkDel(l)
	})
	for i, end := range []struct {
		name string
		addr netip.Prefix
	}{{vethKernelName, vethKernelAddr}, {vethPeerName, vethPeerAddr}} {
		l, err := nl[i].LinkByName(end.name)
		if err != nil {
			return nil, fmt.Errorf("bench: veth end %s: %w", end.name, err)
		}
		ipn := &net.IPNet{IP: end.addr.Addr().AsSlice(), Mask: net.CIDRMask(end.addr.Bits(), 32)}
		if err := nl[i].AddrAdd(l, &netlink.Addr{IPNet: ipn}); err != nil {
			return nil, fmt.Errorf("bench: address %v on %s: %w", end.addr, end.name, err)
		}
		if err := nl[i].LinkSetUp(l); err != nil {
			return nil, fmt.Errorf("bench: set %s up: %w", end.name, err)
		}
	}
	// The kernel starts a veth end's queue once the carrier is up on both
	// ends (asynchronously); wait for it so the first SYN is not dropped.
	for i, name := range []string{vethKernelName, vethPeerName} {
		if err := waitOperUp(nl[i], name); err != nil {
			return nil, err
		}
	}
	k := kernelSide{ns: ns[0], orig: orig, addr: vethKernelAddr.Addr()}
	p := kernelSide{ns: ns[1], orig: orig, addr: vethPeerAddr.Addr()}
	return arrange(dir, k, p, c.run)
}

// waitOperUp waits (at most 2 s) until the interface's operational state
// is up.
func waitOperUp(h *netlink.Handle, name string) error {
	for t0 := time.Now(); ; time.Sleep(time.Millisecond) {
		l, err := h.LinkByName(name)
		if err != nil {
			return fmt.Errorf("bench: %s: %w", name, err)
		}
		if l.Attrs().OperState == netlink.OperUp {
			return nil
		}
		if time.Since(t0) > 2*time.Second {
			return fmt.Errorf("bench: %s is %v, not up, after 2s", name, l.Attrs().OperState)
		}
	}
}
