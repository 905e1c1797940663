package wsp

import (
	"reflect"
	"time"

	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/wsa"
)

// TCPIPEntry returns a catalog entry of a TCP/IP base provider modelled on
// MSAFD's (spec §4.4): TCP (0x20066) or UDP (0x20609, message size 65467)
// over IPv4 (sockaddr 16 bytes) or IPv6 (28), PFL_MATCHES_PROTOCOL_ZERO,
// version 2, a base entry (ChainLen 1), big-endian, no security scheme.
// CatalogEntryId is left 0 (the catalog assigns it).
func TCPIPEntry(id wsa.GUID, af, typ, proto int32, name string) wsa.ProtocolInfo {
	p := wsa.ProtocolInfo{
		ProviderFlags:    wsa.PFL_MATCHES_PROTOCOL_ZERO,
		ProviderId:       id,
		ProtocolChain:    wsa.ProtocolChain{ChainLen: wsa.BASE_PROTOCOL},
		Version:          2,
		AddressFamily:    af,
		SocketType:       typ,
		Protocol:         proto,
		NetworkByteOrder: wsa.BIGENDIAN,
		SecurityScheme:   wsa.SECURITY_PROTOCOL_NONE,
		ProtocolName:     name,
	}
	if af == wsa.AF_INET {
		p.MinSockAddr, p.MaxSockAddr = wsa.SizeofSockaddrInet4, wsa.SizeofSockaddrInet4
	} else {
		p.MinSockAddr, p.MaxSockAddr = wsa.SizeofSockaddrInet6, wsa.SizeofSockaddrInet6
	}
	if typ == wsa.SOCK_STREAM {
		p.ServiceFlags1 = wsa.XP1_IFS_HANDLES | wsa.XP1_EXPEDITED_DATA | wsa.XP1_GRACEFUL_CLOSE |
			wsa.XP1_GUARANTEED_ORDER | wsa.XP1_GUARANTEED_DELIVERY // 0x20066
		p.MessageSize = 0
	} else {
		p.ServiceFlags1 = wsa.XP1_IFS_HANDLES | wsa.XP1_SUPPORT_MULTIPOINT | wsa.XP1_SUPPORT_BROADCAST |
			wsa.XP1_MESSAGE_ORIENTED | wsa.XP1_CONNECTIONLESS // 0x20609
		p.MessageSize = 0xFFBB // 65467
	}
	return p
}

// CheckVersion is the version rule of a WSPStartup supporting Winsock 2.2
// only: below 2.2 is WSAVERNOTSUPPORTED, anything else negotiates 2.2.
func CheckVersion(version uint16) error {
	major, minor := wsa.LOBYTE(version), wsa.HIBYTE(version)
	if major < 2 || major == 2 && minor < 2 {
		return wsa.WSAVERNOTSUPPORTED
	}
	return nil
}

// SameUpcalls compares two upcall tables without panicking on
// incomparable dynamic types.
func SameUpcalls(a, b provider.UpcallTable) bool {
	ta, tb := reflect.TypeOf(a), reflect.TypeOf(b)
	if ta != tb || !ta.Comparable() {
		return false
	}
	return a == b
}

// CheckSocketArgs applies WSPSocket's rules for a TCP/IP catalog entry:
// FROM_PROTOCOL_INFO takes info's values, protocol 0 selects info's
// protocol (PFL_MATCHES_PROTOCOL_ZERO); a family, type or protocol that is
// not info's (or not TCP/UDP over IPv4/IPv6) fails WSAEAFNOSUPPORT,
// WSAESOCKTNOSUPPORT or WSAEPROTONOSUPPORT; a group WSAEINVAL. It returns
// the resolved family, type and protocol.
func CheckSocketArgs(af, typ, protocol int32, info *wsa.ProtocolInfo, g uint32) (int32, int32, int32, error) {
	if info == nil {
		return 0, 0, 0, wsa.WSAEINVAL
	}
	if af == wsa.FROM_PROTOCOL_INFO {
		af = info.AddressFamily
	}
	if typ == wsa.FROM_PROTOCOL_INFO {
		typ = info.SocketType
	}
	if protocol == wsa.FROM_PROTOCOL_INFO {
		protocol = info.Protocol
	}
	switch {
	case af != info.AddressFamily || af != wsa.AF_INET && af != wsa.AF_INET6:
		return 0, 0, 0, wsa.WSAEAFNOSUPPORT
	case typ != info.SocketType || typ != wsa.SOCK_STREAM && typ != wsa.SOCK_DGRAM:
		return 0, 0, 0, wsa.WSAESOCKTNOSUPPORT
	}
	if protocol == 0 && info.ProviderFlags&wsa.PFL_MATCHES_PROTOCOL_ZERO != 0 {
		protocol = info.Protocol
	}
	want := int32(wsa.IPPROTO_TCP)
	if typ == wsa.SOCK_DGRAM {
		want = wsa.IPPROTO_UDP
	}
	if protocol != want || !info.MatchesProtocol(protocol) {
		return 0, 0, 0, wsa.WSAEPROTONOSUPPORT
	}
	if g != 0 {
		return 0, 0, 0, wsa.WSAEINVAL
	}
	return af, typ, protocol, nil
}

// Flags each direction knows; anything else is WSAEINVAL ("an unknown flag
// was specified").
const (
	RecvFlags = wsa.MSG_OOB | wsa.MSG_PEEK | wsa.MSG_WAITALL | wsa.MSG_PUSH_IMMEDIATE | wsa.MSG_PARTIAL
	SendFlags = wsa.MSG_OOB | wsa.MSG_DONTROUTE | wsa.MSG_PARTIAL
)

// Largest datagram payloads: 65535 minus the IPv4 and UDP headers, and
// 65535 minus the UDP header for IPv6 (no jumbograms).
const (
	MaxUDP4 = 65507
	MaxUDP6 = 65527
)

// MaxUDP is the largest datagram to an IPv4 (v4) or IPv6 destination.
func MaxUDP(v4 bool) int {
	if v4 {
		return MaxUDP4
	}
	return MaxUDP6
}

// Windows' TCP keep-alive defaults (KeepAliveTime, KeepAliveInterval, and
// the probe count of Vista and later).
const (
	DefaultKeepIdle  = 2 * time.Hour
	DefaultKeepIntvl = time.Second
	DefaultKeepCnt   = 10
)

// Backlog bounds: SOMAXCONN asks for "a maximum reasonable value";
// SOMAXCONN_HINT(n) asks for n clamped to [200, 65535], as on Windows.
const (
	maxBacklog     = 65535
	somaxconnValue = 4096
	hintMinBacklog = 200
)

// Backlog turns listen's backlog argument into a queue length.
func Backlog(b int32) int {
	switch {
	case b == wsa.SOMAXCONN:
		return somaxconnValue
	case b < 0: // SOMAXCONN_HINT(n) = -n
		n := -int64(b)
		return int(min(max(n, hintMinBacklog), maxBacklog))
	case b == 0:
		return 1
	default:
		return int(min(int64(b), maxBacklog))
	}
}

// BufLen is the total length of a WSABUF array.
func BufLen(bufs [][]byte) int {
	n := 0
	for _, b := range bufs {
		n += len(b)
	}
	return n
}
