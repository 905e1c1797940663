package wsa

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
)

func msafdTCP() ProtocolInfo {
	return ProtocolInfo{
		ServiceFlags1:     0x20066,
		ProviderFlags:     PFL_MATCHES_PROTOCOL_ZERO,
		ProviderId:        MSAFD_TCPIP_PROVIDER_ID,
		CatalogEntryId:    1001,
		ProtocolChain:     ProtocolChain{ChainLen: BASE_PROTOCOL, ChainEntries: [7]uint32{1, 2, 3, 4, 5, 6, 7}},
		Version:           2,
		AddressFamily:     AF_INET,
		MaxSockAddr:       16,
		MinSockAddr:       16,
		SocketType:        SOCK_STREAM,
		Protocol:          IPPROTO_TCP,
		ProtocolMaxOffset: 0,
		NetworkByteOrder:  BIGENDIAN,
		SecurityScheme:    SECURITY_PROTOCOL_NONE,
		MessageSize:       0xFFBB,
		ProviderReserved:  0xdeadbeef,
		ProtocolName:      "MSAFD Tcpip [TCP/IP]",
	}
}

func TestProtocolInfoLayout(t *testing.T) {
	p := msafdTCP()
	p.ServiceFlags2, p.ServiceFlags3, p.ServiceFlags4 = 0x11, 0x22, 0x33
	p.ProtocolMaxOffset, p.SecurityScheme, p.NetworkByteOrder = 255, 7, LITTLEENDIAN
	b := bytes.Repeat([]byte{0xAA}, SizeofProtocolInfo+4)
	if err := p.Marshal(b); err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	for _, c := range []struct {
		name string
		off  int
		want uint32
	}{
		{"dwServiceFlags1", 0, 0x20066},
		{"dwServiceFlags2", 4, 0x11},
		{"dwServiceFlags3", 8, 0x22},
		{"dwServiceFlags4", 12, 0x33},
		{"dwProviderFlags", 16, PFL_MATCHES_PROTOCOL_ZERO},
		{"ProviderId.Data1", 20, 0xe70f1aa0},
		{"dwCatalogEntryId", 36, 1001},
		{"ChainLen", 40, 1},
		{"ChainEntries[0]", 44, 1},
		{"ChainEntries[6]", 68, 7},
		{"iVersion", 72, 2},
		{"iAddressFamily", 76, AF_INET},
		{"iMaxSockAddr", 80, 16},
		{"iMinSockAddr", 84, 16},
		{"iSocketType", 88, SOCK_STREAM},
		{"iProtocol", 92, IPPROTO_TCP},
		{"iProtocolMaxOffset", 96, 255},
		{"iNetworkByteOrder", 100, LITTLEENDIAN},
		{"iSecurityScheme", 104, 7},
		{"dwMessageSize", 108, 0xFFBB},
		{"dwProviderReserved", 112, 0xdeadbeef},
	} {
		if got := le.Uint32(b[c.off:]); got != c.want {
			t.Errorf("%s at %d = %#x, want %#x", c.name, c.off, got, c.want)
		}
	}
	if !bytes.Equal(b[24:36], []byte{0x8b, 0xab, 0xcf, 0x11, 0x8c, 0xa3, 0x00, 0x80, 0x5f, 0x48, 0xa1, 0x92}) {
		t.Errorf("ProviderId tail = % x", b[24:36])
	}
	// szProtocol at 116: UTF-16LE, NUL-terminated, rest zeroed.
	if b[116] != 'M' || b[117] != 0 || b[118] != 'S' {
		t.Errorf("name bytes = % x", b[116:122])
	}
	n := len(p.ProtocolName)
	for i := 116 + 2*n; i < SizeofProtocolInfo; i++ {
		if b[i] != 0 {
			t.Fatalf("szProtocol byte %d = %#x, want 0", i, b[i])
		}
	}
	if b[SizeofProtocolInfo] != 0xAA {
		t.Error("Marshal wrote past 628 bytes")
	}
	got, err := UnmarshalProtocolInfo(b)
	if err != nil || got != p {
		t.Errorf("round trip = %+v, %v", got, err)
	}
}

func TestProtocolInfoNames(t *testing.T) {
	b := make([]byte, SizeofProtocolInfo)
	for _, c := range []struct {
		name string
		err  error
	}{
		{"", nil},
		{"Ünïcode ✓ 𝄞 provider", nil},
		{strings.Repeat("x", 255), nil},
		{strings.Repeat("x", 256), WSAEINVAL},
		{strings.Repeat("𝄞", 127), nil},       // 254 units
		{strings.Repeat("𝄞", 128), WSAEINVAL}, // 256 units
		{"a\x00b", WSAEINVAL},
	} {
		p := msafdTCP()
		p.ProtocolName = c.name
		err := p.Marshal(b)
		if err != c.err {
			t.Errorf("Marshal(name len %d) = %v, want %v", len(c.name), err, c.err)
			continue
		}
		if err == nil {
			got, err := UnmarshalProtocolInfo(b)
			if err != nil || got.ProtocolName != c.name {
				t.Errorf("name round trip %q -> %q, %v", c.name, got.ProtocolName, err)
			}
		}
	}
	p := msafdTCP()
	if err := p.Marshal(b[:SizeofProtocolInfo-1]); err != WSAEFAULT {
		t.Errorf("short Marshal = %v", err)
	}
	if _, err := UnmarshalProtocolInfo(b[:SizeofProtocolInfo-1]); err != WSAEFAULT {
		t.Errorf("short Unmarshal = %v", err)
	}
	// No NUL in szProtocol.
	for i := 116; i < SizeofProtocolInfo; i += 2 {
		b[i], b[i+1] = 'x', 0
	}
	if _, err := UnmarshalProtocolInfo(b); err != WSAEINVAL {
		t.Errorf("unterminated name = %v", err)
	}
}

func TestSmallStructs(t *testing.T) {
	b := make([]byte, 64)

	l := Linger{Onoff: 1, Linger: 0x1234}
	if err := l.Marshal(b); err != nil || !bytes.Equal(b[:4], []byte{1, 0, 0x34, 0x12}) {
		t.Errorf("Linger = % x, %v", b[:4], err)
	}
	if g, err := UnmarshalLinger(b); err != nil || g != l {
		t.Errorf("UnmarshalLinger = %v, %v", g, err)
	}

	k := TCPKeepalive{Onoff: 1, Time: 7200000, Interval: 1000}
	if err := k.Marshal(b); err != nil || !bytes.Equal(b[:12], []byte{1, 0, 0, 0, 0x00, 0xdd, 0x6d, 0x00, 0xe8, 0x03, 0, 0}) {
		t.Errorf("TCPKeepalive = % x, %v", b[:12], err)
	}
	if g, err := UnmarshalTCPKeepalive(b); err != nil || g != k {
		t.Errorf("UnmarshalTCPKeepalive = %v, %v", g, err)
	}

	for i := range b {
		b[i] = 0xff
	}
	pf := PollFd{Fd: 0x1122334455, Events: POLLIN, REvents: -1}
	if err := pf.Marshal(b); err != nil || !bytes.Equal(b[:16], []byte{0x55, 0x44, 0x33, 0x22, 0x11, 0, 0, 0, 0x00, 0x03, 0xff, 0xff, 0, 0, 0, 0}) {
		t.Errorf("PollFd = % x, %v", b[:16], err)
	}
	if g, err := UnmarshalPollFd(b); err != nil || g != pf {
		t.Errorf("UnmarshalPollFd = %v, %v", g, err)
	}

	ne := NetworkEvents{NetworkEvents: FD_READ | FD_CLOSE}
	ne.ErrorCode[FD_CLOSE_BIT] = int32(WSAECONNRESET)
	ne.ErrorCode[FD_ADDRESS_LIST_CHANGE_BIT] = -1
	if err := ne.Marshal(b); err != nil {
		t.Fatal(err)
	}
	if binary.LittleEndian.Uint32(b) != 0x21 || binary.LittleEndian.Uint32(b[4+4*FD_CLOSE_BIT:]) != 10054 || binary.LittleEndian.Uint32(b[40:]) != 0xffffffff {
		t.Errorf("NetworkEvents = % x", b[:SizeofNetworkEvents])
	}
	if g, err := UnmarshalNetworkEvents(b); err != nil || g != ne {
		t.Errorf("UnmarshalNetworkEvents = %v, %v", g, err)
	}

	tv := Timeval{Sec: 5, Usec: -1}
	if err := tv.Marshal(b); err != nil || !bytes.Equal(b[:8], []byte{5, 0, 0, 0, 0xff, 0xff, 0xff, 0xff}) {
		t.Errorf("Timeval = % x, %v", b[:8], err)
	}
	if g, err := UnmarshalTimeval(b); err != nil || g != tv {
		t.Errorf("UnmarshalTimeval = %v, %v", g, err)
	}

	// Short buffers.
	short := func(name string, err error) {
		t.Helper()
		if err != WSAEFAULT {
			t.Errorf("%s short buffer: %v, want WSAEFAULT", name, err)
		}
	}
	short("Linger.Marshal", l.Marshal(b[:3]))
	_, err := UnmarshalLinger(b[:3])
	short("UnmarshalLinger", err)
	short("TCPKeepalive.Marshal", k.Marshal(b[:11]))
	_, err = UnmarshalTCPKeepalive(b[:11])
	short("UnmarshalTCPKeepalive", err)
	short("PollFd.Marshal", pf.Marshal(b[:15]))
	_, err = UnmarshalPollFd(b[:15])
	short("UnmarshalPollFd", err)
	short("NetworkEvents.Marshal", ne.Marshal(b[:43]))
	_, err = UnmarshalNetworkEvents(b[:43])
	short("UnmarshalNetworkEvents", err)
	short("Timeval.Marshal", tv.Marshal(b[:7]))
	_, err = UnmarshalTimeval(b[:7])
	short("UnmarshalTimeval", err)
}

func TestOptionHelpers(t *testing.T) {
	b := make([]byte, 8)
	if n, err := PutInt32(b, -2); n != 4 || err != nil || !bytes.Equal(b[:4], []byte{0xfe, 0xff, 0xff, 0xff}) {
		t.Errorf("PutInt32 = %d, %v, % x", n, err, b[:4])
	}
	if v, err := GetInt32(b); v != -2 || err != nil {
		t.Errorf("GetInt32 = %d, %v", v, err)
	}
	if n, err := PutUint32(b, 0xC8000006); n != 4 || err != nil {
		t.Errorf("PutUint32 = %d, %v", n, err)
	}
	if v, err := GetUint32(b); v != 0xC8000006 || err != nil {
		t.Errorf("GetUint32 = %#x, %v", v, err)
	}
	if n, err := PutBool(b, true); n != 4 || err != nil || !bytes.Equal(b[:4], []byte{1, 0, 0, 0}) {
		t.Errorf("PutBool(true) = %d, %v, % x", n, err, b[:4])
	}
	for _, c := range []struct {
		in   []byte
		want bool
		err  error
	}{
		{[]byte{1, 0, 0, 0}, true, nil},
		{[]byte{0, 0, 0, 0}, false, nil},
		{[]byte{0, 0, 0, 0x80}, true, nil},
		{[]byte{0, 1, 0, 0, 0xff}, true, nil},
		{[]byte{1}, false, WSAEFAULT}, // 1-byte BOOL refused
		{[]byte{1, 0, 0}, false, WSAEFAULT},
		{nil, false, WSAEFAULT},
	} {
		if v, err := GetBool(c.in); v != c.want || err != c.err {
			t.Errorf("GetBool(% x) = %v, %v", c.in, v, err)
		}
	}
	for name, err := range map[string]error{
		"PutInt32":  second(PutInt32(b[:3], 1)),
		"PutUint32": second(PutUint32(b[:3], 1)),
		"PutBool":   second(PutBool(b[:0], true)),
		"GetInt32":  second(GetInt32(b[:3])),
		"GetUint32": second(GetUint32(nil)),
	} {
		if err != WSAEFAULT {
			t.Errorf("%s short: %v", name, err)
		}
	}
}

func second[T any](_ T, err error) error { return err }
