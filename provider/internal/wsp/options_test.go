package wsp

import (
	"encoding/binary"
	"sync"
	"testing"

	"github.com/ws2go/ws2/wsa"
)

func TestGetStored(t *testing.T) {
	o := DefaultOpts(wsa.AF_INET6)
	if !o.V6Only || o.RcvBuf != -1 || !o.UDPConnReset || o.KeepIdle != DefaultKeepIdle {
		t.Fatalf("defaults %+v", o)
	}
	o.ReuseAddr, o.RcvTimeo = true, 250
	b := make([]byte, 4)
	if n, ok, err := o.GetStored(true, wsa.SO_REUSEADDR, b); !ok || err != nil || n != 4 || binary.LittleEndian.Uint32(b) != 1 {
		t.Fatalf("SO_REUSEADDR: %d %v %v %v", n, ok, err, b)
	}
	if n, ok, err := o.GetStored(true, wsa.SO_RCVTIMEO, b); !ok || err != nil || n != 4 || binary.LittleEndian.Uint32(b) != 250 {
		t.Fatalf("SO_RCVTIMEO: %d %v %v %v", n, ok, err, b)
	}
	if _, ok, err := o.GetStored(false, wsa.SO_LINGER, b); !ok || err != wsa.WSAENOPROTOOPT {
		t.Fatalf("SO_LINGER on a datagram socket: %v %v", ok, err)
	}
	if _, ok, err := o.GetStored(true, wsa.SO_LINGER, b[:2]); !ok || err != wsa.WSAEFAULT {
		t.Fatalf("SO_LINGER short: %v %v", ok, err)
	}
	if _, ok, _ := o.GetStored(true, wsa.SO_TYPE, b); ok {
		t.Fatal("SO_TYPE answered from the record")
	}
}

func TestSockOptLevels(t *testing.T) {
	var got int32
	h := func(level int32) func(int32, []byte) (int32, error) {
		return func(int32, []byte) (int32, error) { got = level; return 0, nil }
	}
	l := OptLevels[int32]{Socket: h(wsa.SOL_SOCKET), TCP: h(wsa.IPPROTO_TCP), IP: h(wsa.IPPROTO_IP), IPv6: h(wsa.IPPROTO_IPV6)}
	for _, level := range []int32{wsa.SOL_SOCKET, wsa.IPPROTO_TCP, wsa.IPPROTO_IP, wsa.IPPROTO_IPV6} {
		if _, err := SockOpt(l, level, 1, nil); err != nil || got != level {
			t.Fatalf("level %d: %v, handled by %d", level, err, got)
		}
	}
	if _, err := SockOpt(l, wsa.IPPROTO_UDP, 1, nil); err != wsa.WSAENOPROTOOPT {
		t.Fatalf("IPPROTO_UDP: %v", err)
	}
	if _, err := SockOpt(l, 12345, 1, nil); err != wsa.WSAEINVAL {
		t.Fatalf("unknown level: %v", err)
	}
	set := OptLevels[struct{}]{Socket: SetOpt(func(int32, []byte) error { return wsa.WSAEFAULT })}
	if _, err := SockOpt(set, wsa.SOL_SOCKET, 1, nil); err != wsa.WSAEFAULT {
		t.Fatalf("set: %v", err)
	}
}

func TestIoctlCommon(t *testing.T) {
	var mu sync.Mutex
	var ev EventState
	o := DefaultOpts(wsa.AF_INET)
	s := IoctlSocket{Mu: &mu, Opts: &o, Events: &ev, Stream: false, Handle: 0x1234}
	in := make([]byte, 4)
	binary.LittleEndian.PutUint32(in, 1)
	if _, ok, err := s.Ioctl(wsa.FIONBIO, in, nil); !ok || err != nil || !o.Nonblocking {
		t.Fatalf("FIONBIO: %v %v %v", ok, err, o.Nonblocking)
	}
	binary.LittleEndian.PutUint32(in, 0)
	if _, ok, err := s.Ioctl(wsa.SIO_UDP_CONNRESET, in, nil); !ok || err != nil || o.UDPConnReset {
		t.Fatalf("SIO_UDP_CONNRESET: %v %v %v", ok, err, o.UDPConnReset)
	}
	out := make([]byte, 8)
	if n, ok, err := s.Ioctl(wsa.SIO_BASE_HANDLE, nil, out); !ok || err != nil || n != 8 || binary.LittleEndian.Uint64(out) != 0x1234 {
		t.Fatalf("SIO_BASE_HANDLE: %d %v %v", n, ok, err)
	}
	if _, ok, err := s.Ioctl(wsa.SIOCATMARK, nil, out); !ok || err != wsa.WSAEINVAL {
		t.Fatalf("SIOCATMARK on a datagram socket: %v %v", ok, err)
	}
	if _, ok, err := s.Ioctl(wsa.SIO_KEEPALIVE_VALS, nil, nil); !ok || err != wsa.WSAENOPROTOOPT {
		t.Fatalf("SIO_KEEPALIVE_VALS on a datagram socket: %v %v", ok, err)
	}
	if _, ok, _ := s.Ioctl(wsa.FIONREAD, nil, out); ok {
		t.Fatal("FIONREAD answered in common")
	}
	s.Stream = true
	if _, ok, _ := s.Ioctl(wsa.SIOCATMARK, nil, out); ok {
		t.Fatal("SIOCATMARK on a stream answered in common")
	}
}

func TestEventSelectArgs(t *testing.T) {
	if r, err := EventSelect(Registration{Mask: 1 << 20, Event: 0}); r != nil || err != nil {
		t.Fatalf("no FD_* bits: %v %v", r, err)
	}
	if _, err := EventSelect(Registration{Mask: wsa.FD_READ}); err != wsa.WSAEINVAL {
		t.Fatalf("no event: %v", err)
	}
	if _, err := EventSelect(Registration{Mask: wsa.FD_READ, Async: true, Event: 5}); err != wsa.WSAEINVAL {
		t.Fatalf("no window: %v", err)
	}
	if r, err := EventSelect(Registration{Mask: wsa.FD_READ | 1<<20, Event: 5}); err != nil || r.Mask != wsa.FD_READ {
		t.Fatalf("event: %+v %v", r, err)
	}
}

func TestSetStored(t *testing.T) {
	o := DefaultOpts(wsa.AF_INET)
	one := []byte{1, 0, 0, 0}
	if ok, err := o.SetStored(true, false, wsa.SO_REUSEADDR, one); !ok || err != nil || !o.ReuseAddr {
		t.Fatalf("SO_REUSEADDR: %v %v", ok, err)
	}
	if ok, err := o.SetStored(true, false, wsa.SO_EXCLUSIVEADDRUSE, one); !ok || err != wsa.WSAEINVAL {
		t.Fatalf("both address options: %v %v", ok, err)
	}
	if ok, err := o.SetStored(true, true, wsa.SO_REUSEADDR, one); !ok || err != wsa.WSAEINVAL {
		t.Fatalf("SO_REUSEADDR once bound: %v %v", ok, err)
	}
	if ok, err := o.SetStored(true, false, wsa.SO_DONTLINGER, []byte{0, 0, 0, 0}); !ok || err != nil || o.Linger.Onoff != 1 {
		t.Fatalf("SO_DONTLINGER: %v %v %+v", ok, err, o.Linger)
	}
	if ok, err := o.SetStored(false, false, wsa.SO_LINGER, make([]byte, 4)); !ok || err != wsa.WSAENOPROTOOPT {
		t.Fatalf("SO_LINGER on a datagram socket: %v %v", ok, err)
	}
	if ok, err := o.SetStored(true, false, wsa.SO_SNDTIMEO, []byte{100, 0, 0, 0}); !ok || err != nil || o.SndTimeo != 100 {
		t.Fatalf("SO_SNDTIMEO: %v %v %d", ok, err, o.SndTimeo)
	}
	if ok, _ := o.SetStored(true, false, wsa.SO_KEEPALIVE, one); ok {
		t.Fatal("SO_KEEPALIVE handled by the record alone")
	}
}
