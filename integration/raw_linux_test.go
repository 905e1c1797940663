//go:build linux

package integration

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"os/exec"
	"testing"
	"time"

	"github.com/ws2go/ws2"
	"github.com/ws2go/ws2/api"
	"github.com/ws2go/ws2/internal/netns"
	"github.com/ws2go/ws2/internal/testutil"
	"github.com/ws2go/ws2/wsa"
)

// TestRawPingTUN runs ICMP echo across a TUN in both directions, inside a
// namespace of its own: a ws2 host (192.0.2.1, 2001:db8::1) pings the
// kernel's side (192.0.2.2, 2001:db8::2) with raw ICMP and ICMPv6 sockets
// through the api, and the kernel's ping(8) pings the ws2 host, whose stack
// answers.
func TestRawPingTUN(t *testing.T) {
	if !netns.Enter(t) {
		return
	}
	testutil.DisableDAD(t)
	h, err := ws2.NewTUN(ws2.TUNConfig{
		Name: "ws2i2",
		Addrs: []netip.Prefix{
			netip.MustParsePrefix(hostV4 + "/24"), netip.MustParsePrefix(hostV6 + "/64"),
		},
		KernelAddrs: []netip.Prefix{
			netip.MustParsePrefix(kernelV4 + "/24"), netip.MustParsePrefix(kernelV6 + "/64"),
		},
	})
	if err != nil {
		t.Fatalf("NewTUN: %v", err)
	}
	t.Cleanup(func() { h.Close() })
	// The test runs as root in its namespace, which the default rule
	// already allows; say so explicitly.
	h.Netstack.SetRawAllowed(true)

	t.Run("ws2 pings the kernel", func(t *testing.T) {
		for i, ip := range []string{kernelV4, kernelV6} {
			rawPingRetry(t, h.Session, netip.MustParseAddr(ip), uint16(0x3300+i))
		}
	})
	t.Run("the kernel pings ws2", func(t *testing.T) {
		if _, err := exec.LookPath("ping"); err != nil {
			netns.Require(t, "ping (iputils-ping): "+err.Error())
		}
		for _, args := range [][]string{{"-4", hostV4}, {"-6", hostV6}} {
			cmd := exec.Command("ping", append([]string{"-c", "3", "-W", "2"}, args...)...)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("%v: %v\n%s", cmd.Args, err, out)
			}
		}
	})
}

// rawPingRetry pings dst from a raw ICMP (ICMPv6) socket of ws, one echo
// request every 250 ms until a reply arrives (the link may still be coming
// up), and checks the reply: id, sequence, data and, for IPv4, the IPv4
// header raw IPv4 sockets receive.
func rawPingRetry(t *testing.T, ws *api.Session, dst netip.Addr, id uint16) {
	t.Helper()
	af, proto, req, rep := int32(wsa.AF_INET), int32(wsa.IPPROTO_ICMP), byte(8), byte(0)
	if dst.Is6() {
		af, proto, req, rep = wsa.AF_INET6, wsa.IPPROTO_ICMPV6, 128, 129
	}
	s, err := ws.Socket(af, wsa.SOCK_RAW, proto)
	if err != nil {
		t.Fatalf("socket(%d, SOCK_RAW, %d): %v", af, proto, err)
	}
	defer ws.Closesocket(s)
	if err := ws.SetsockoptInt(s, wsa.SOL_SOCKET, wsa.SO_RCVTIMEO, 250); err != nil {
		t.Fatal(err)
	}
	data := []byte("ws2 raw ping over a TUN")
	to := wsa.SockaddrFromAddrPort(netip.AddrPortFrom(dst, 0))
	buf := make([]byte, 2048)
	deadline := time.Now().Add(stepTimeout)
	for seq := uint16(1); time.Now().Before(deadline); seq++ {
		msg := make([]byte, 8+len(data))
		msg[0] = req
		binary.BigEndian.PutUint16(msg[4:], id)
		binary.BigEndian.PutUint16(msg[6:], seq)
		copy(msg[8:], data)
		if !dst.Is6() { // the stack fills in ICMPv6 checksums only
			binary.BigEndian.PutUint16(msg[2:], icmpChecksum(msg))
		}
		if _, err := ws.Sendto(s, msg, 0, to); err != nil {
			t.Fatalf("sendto %v: %v", dst, err)
		}
		for {
			n, from, err := ws.Recvfrom(s, buf, 0)
			if errors.Is(err, wsa.WSAETIMEDOUT) {
				break // send the next request
			}
			if err != nil {
				t.Fatalf("recvfrom: %v", err)
			}
			b := buf[:n]
			if !dst.Is6() {
				if len(b) < 20 || b[0]>>4 != 4 || b[9] != wsa.IPPROTO_ICMP {
					t.Fatalf("raw IPv4 datagram without its IPv4 header: % x", b)
				}
				b = b[int(b[0]&0x0f)*4:]
			}
			if len(b) < 8 || b[0] != rep || binary.BigEndian.Uint16(b[4:]) != id || binary.BigEndian.Uint16(b[6:]) != seq {
				continue
			}
			if !bytes.Equal(b[8:], data) || from.AddrPort().Addr().Unmap() != dst {
				t.Fatalf("echo reply % x from %v", b, from)
			}
			return
		}
	}
	t.Fatalf("no echo reply from %v", dst)
}

// icmpChecksum is the Internet checksum (RFC 1071) of b.
func icmpChecksum(b []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}
