package wsa

import (
	"bytes"
	"net/netip"
	"reflect"
	"testing"
)

func TestByteOrder(t *testing.T) {
	if Htons(0x1234) != 0x3412 || Ntohs(0x3412) != 0x1234 {
		t.Error("Htons/Ntohs")
	}
	if Htonl(0x7f000001) != 0x0100007f || Ntohl(0x0100007f) != 0x7f000001 {
		t.Error("Htonl/Ntohl")
	}
	if Htons(80) != 0x5000 {
		t.Errorf("Htons(80) = %#x", Htons(80))
	}
}

func TestInetAddr(t *testing.T) {
	for _, c := range []struct {
		in   string
		want uint32
		err  error
	}{
		{"127.0.0.1", 0x7f000001, nil},
		{"0x7f.1", 0x7f000001, nil},
		{"127.1", 0x7f000001, nil},
		{"127.0.1", 0x7f000001, nil},
		{"1.2.3.256", INADDR_NONE, WSAEINVAL},
		{"255.255.255.255", 0xffffffff, nil},
		{"0.0.0.0", 0, nil},
		{" ", 0, nil},
		{"", INADDR_NONE, WSAEINVAL},
		{"0177.0.0.01", 0x7f000001, nil},
		{"0x7F.0X0.0.1", 0x7f000001, nil},
		{"2130706433", 0x7f000001, nil},
		{"017700000001", 0x7f000001, nil},
		{"1.2.3.4 trailing", 0x01020304, nil},
		{"1.2.3.4\tx", 0x01020304, nil},
		{"1.2.3.4.5", INADDR_NONE, WSAEINVAL},
		{"1.2.3.", INADDR_NONE, WSAEINVAL},
		{"1..2", INADDR_NONE, WSAEINVAL},
		{".1.2.3", INADDR_NONE, WSAEINVAL},
		{"a.b.c.d", INADDR_NONE, WSAEINVAL},
		{"-1", INADDR_NONE, WSAEINVAL},
		{"+1.2.3.4", INADDR_NONE, WSAEINVAL},
		{" 1.2.3.4", INADDR_NONE, WSAEINVAL},
		{"1.2.3.4x", INADDR_NONE, WSAEINVAL},
		{"1.0x1000000", INADDR_NONE, WSAEINVAL},
		{"1.0xffffff", 0x01ffffff, nil},
		{"1.2.65535", 0x0102ffff, nil},
		{"1.2.65536", INADDR_NONE, WSAEINVAL},
		{"256.1", INADDR_NONE, WSAEINVAL},
		{"08.1.1.1", INADDR_NONE, WSAEINVAL},
		{"0x.1.1.1", INADDR_NONE, WSAEINVAL},
		{"4294967295", 0xffffffff, nil},
		{"99999999999", 0xffffffff, nil}, // strtoul saturates
	} {
		got, err := InetAddr(c.in)
		if got != c.want || err != c.err {
			t.Errorf("InetAddr(%q) = %#x, %v; want %#x, %v", c.in, got, err, c.want, c.err)
		}
	}
}

func TestInetNtoa(t *testing.T) {
	for _, c := range []struct {
		in   [4]byte
		want string
	}{
		{[4]byte{127, 0, 0, 1}, "127.0.0.1"},
		{[4]byte{0, 0, 0, 0}, "0.0.0.0"},
		{[4]byte{255, 255, 255, 255}, "255.255.255.255"},
		{[4]byte{10, 200, 3, 40}, "10.200.3.40"},
	} {
		if got := InetNtoa(c.in); got != c.want {
			t.Errorf("InetNtoa(%v) = %q", c.in, got)
		}
	}
}

func TestInetPton(t *testing.T) {
	for _, c := range []struct {
		af   int32
		in   string
		want []byte
		err  error
	}{
		{AF_INET, "1.2.3.4", []byte{1, 2, 3, 4}, nil},
		{AF_INET, "255.255.255.255", []byte{255, 255, 255, 255}, nil},
		{AF_INET, "0.0.0.0", []byte{0, 0, 0, 0}, nil},
		{AF_INET, "1.2.3", nil, WSAEINVAL},
		{AF_INET, "127.1", nil, WSAEINVAL},
		{AF_INET, "0x7f.0.0.1", nil, WSAEINVAL},
		{AF_INET, "01.2.3.4", nil, WSAEINVAL},
		{AF_INET, "1.2.3.256", nil, WSAEINVAL},
		{AF_INET, "1.2.3.4 ", nil, WSAEINVAL},
		{AF_INET, "1.2.3.4:80", nil, WSAEINVAL},
		{AF_INET, "1.2.3.4294967300", nil, WSAEINVAL},
		{AF_INET, "", nil, WSAEINVAL},
		{AF_INET, "::1", nil, WSAEINVAL},
		{AF_INET6, "::1", []byte{15: 1}, nil},
		{AF_INET6, "::", make([]byte, 16), nil},
		{AF_INET6, "2001:db8::8:800:200c:417a", []byte{0x20, 0x01, 0x0d, 0xb8, 8: 0, 9: 8, 10: 8, 11: 0, 12: 0x20, 13: 0x0c, 14: 0x41, 15: 0x7a}, nil},
		{AF_INET6, "::ffff:1.2.3.4", []byte{10: 0xff, 11: 0xff, 12: 1, 13: 2, 14: 3, 15: 4}, nil},
		{AF_INET6, "FE80::1", []byte{0: 0xfe, 1: 0x80, 15: 1}, nil},
		{AF_INET6, "fe80::1%3", nil, WSAEINVAL},
		{AF_INET6, "[::1]", nil, WSAEINVAL},
		{AF_INET6, "1.2.3.4", nil, WSAEINVAL},
		{AF_INET6, "1:2:3:4:5:6:7:8:9", nil, WSAEINVAL},
		{AF_INET6, "1::2::3", nil, WSAEINVAL},
		{AF_INET6, "", nil, WSAEINVAL},
		{AF_UNSPEC, "1.2.3.4", nil, WSAEAFNOSUPPORT},
		{AF_IPX, "1.2.3.4", nil, WSAEAFNOSUPPORT},
	} {
		got, err := InetPton(c.af, c.in)
		if !bytes.Equal(got, c.want) || err != c.err {
			t.Errorf("InetPton(%d, %q) = % x, %v; want % x, %v", c.af, c.in, got, err, c.want, c.err)
		}
	}
}

func TestInetNtop(t *testing.T) {
	v6 := func(s string) []byte { a := netip.MustParseAddr(s).As16(); return a[:] }
	for _, c := range []struct {
		af   int32
		in   []byte
		want string
		err  error
	}{
		{AF_INET, []byte{192, 168, 1, 20}, "192.168.1.20", nil},
		{AF_INET, []byte{1, 2, 3, 4, 5}, "1.2.3.4", nil},
		{AF_INET, []byte{1, 2, 3}, "", WSAEFAULT},
		{AF_INET6, v6("::1"), "::1", nil},
		{AF_INET6, v6("::"), "::", nil},
		{AF_INET6, v6("20ab::1"), "20ab::1", nil},
		{AF_INET6, v6("2001:DB8::8:800:200C:417A"), "2001:db8::8:800:200c:417a", nil},
		{AF_INET6, v6("1:0:0:0:0:0:0:0"), "1::", nil},
		{AF_INET6, v6("1:2:3:4:5:6:7:8"), "1:2:3:4:5:6:7:8", nil},
		{AF_INET6, v6("1:0:2:3:4:5:6:7"), "1:0:2:3:4:5:6:7", nil}, // a single zero group stays
		{AF_INET6, v6("1:0:0:2:0:0:0:3"), "1::2:0:0:0:3", nil},    // the first run, as RtlIpv6AddressToString
		{AF_INET6, v6("::ffff:1.2.3.4"), "::ffff:1.2.3.4", nil},
		{AF_INET6, v6("::ffff:0:1.2.3.4"), "::ffff:0:1.2.3.4", nil},
		{AF_INET6, v6("::1.2.3.4"), "::1.2.3.4", nil},
		{AF_INET6, v6("::ffff:0.0.1.2"), "::ffff:0:102", nil},
		{AF_INET6, v6("fe80::5efe:10.0.0.1"), "fe80::5efe:10.0.0.1", nil},
		{AF_INET6, v6("fe80::200:5efe:10.0.0.1"), "fe80::200:5efe:10.0.0.1", nil},
		{AF_INET6, v6("64:ff9b::1.2.3.4"), "64:ff9b::102:304", nil},
		{AF_INET6, make([]byte, 15), "", WSAEFAULT},
		{AF_UNSPEC, []byte{1, 2, 3, 4}, "", WSAEAFNOSUPPORT},
	} {
		got, err := InetNtop(c.af, c.in)
		if got != c.want || err != c.err {
			t.Errorf("InetNtop(%d, % x) = %q, %v; want %q, %v", c.af, c.in, got, err, c.want, c.err)
		}
		if err == nil {
			back, err := InetPton(c.af, got)
			n := 4
			if c.af == AF_INET6 {
				n = 16
			}
			if err != nil || !bytes.Equal(back, c.in[:n]) {
				t.Errorf("InetPton(InetNtop(% x)) = % x, %v", c.in, back, err)
			}
		}
	}
}

func v6sa(s string, port int, zone uint32) *SockaddrInet6 {
	return &SockaddrInet6{Addr: netip.MustParseAddr(s).As16(), Port: port, ZoneId: zone}
}

func TestFormatSockaddr(t *testing.T) {
	for _, c := range []struct {
		sa   Sockaddr
		want string
	}{
		{&SockaddrInet4{Addr: [4]byte{1, 2, 3, 4}}, "1.2.3.4"},
		{&SockaddrInet4{Addr: [4]byte{1, 2, 3, 4}, Port: 80}, "1.2.3.4:80"},
		{&SockaddrInet4{Addr: [4]byte{255, 255, 255, 255}, Port: 65535}, "255.255.255.255:65535"},
		{&SockaddrInet4{}, "0.0.0.0"},
		{v6sa("::1", 0, 0), "::1"},
		{v6sa("20ab::2001", 33274, 0), "[20ab::2001]:33274"},
		{v6sa("20ab::2001", 33274, 4660), "[20ab::2001%4660]:33274"},
		{v6sa("20ab::2001", 0, 4660), "20ab::2001%4660"},
		{v6sa("fe80::1", 80, 3), "[fe80::1%3]:80"},
		{&SockaddrInet6{Addr: [16]byte{15: 1}, FlowInfo: 99}, "::1"},
		{nil, ""},
		{(*SockaddrInet4)(nil), ""},
		{(*SockaddrInet6)(nil), ""},
	} {
		if got := FormatSockaddr(c.sa); got != c.want {
			t.Errorf("FormatSockaddr(%v) = %q, want %q", c.sa, got, c.want)
		}
	}
}

func TestParseSockaddrString(t *testing.T) {
	v4 := func(a uint32, port int) Sockaddr {
		return &SockaddrInet4{Addr: [4]byte{byte(a >> 24), byte(a >> 16), byte(a >> 8), byte(a)}, Port: port}
	}
	// The IPv4 rows are Wine's test_WSAStringToAddress table, which is checked
	// against Windows.
	for _, c := range []struct {
		in   string
		want Sockaddr // nil: WSAEINVAL
	}{
		{"", nil},
		{" ", nil},
		{"1.1.1.1", v4(0x01010101, 0)},
		{"0.0.0.0", v4(0, 0)},
		{"127.127.127.127", v4(0x7f7f7f7f, 0)},
		{"127.127.127.127:", nil},
		{"127.127.127.127:0", nil},
		{"1.2.3.4:0", nil},
		{"127.127.127.127:123", v4(0x7f7f7f7f, 123)},
		{"127.127.127.127:65535", v4(0x7f7f7f7f, 65535)},
		{"127.127.127.127:65537", nil},
		{"127.127.127.127::1", nil},
		{"127.127.127.127:0xAbCd", v4(0x7f7f7f7f, 43981)},
		{"127.127.127.127:0XaBcD", v4(0x7f7f7f7f, 43981)},
		{"127.127.127.127:0x", nil},
		{"127.127.127.127:0x10000", nil},
		{"127.127.127.127:010", v4(0x7f7f7f7f, 8)},
		{"127.127.127.127:007", v4(0x7f7f7f7f, 7)},
		{"127.127.127.127:08", nil},
		{"127.127.127.127:008", nil},
		{"127.127.127.127:0a", nil},
		{"127.127.127.127:0o10", nil},
		{"127.127.127.127:0b10", nil},
		{"255.255.255.255", v4(0xffffffff, 0)},
		{"255.255.255.255:123", v4(0xffffffff, 123)},
		{"255.255.255.256", nil},
		{"a", nil},
		{"1.1.1.0xaA", v4(0x010101aa, 0)},
		{"1.1.1.0x", nil},
		{"1.1.1.0xff", v4(0x010101ff, 0)},
		{"1.1.1.0x100", nil},
		{"1.1.1.010", v4(0x01010108, 0)},
		{"1.1.1.00", v4(0x01010100, 0)},
		{"1.1.1.007", v4(0x01010107, 0)},
		{"1.1.1.08", nil},
		{"1.1.1.008", nil},
		{"1.1.1.0a", nil},
		{"1.1.1.-2", nil},
		{"1", v4(1, 0)},
		{"-1", nil},
		{"1:1", v4(1, 1)},
		{"1.2", v4(0x01000002, 0)},
		{"1.2:1", v4(0x01000002, 1)},
		{"1000.2000", nil},
		{"1.2.", nil},
		{"1..2", nil},
		{"1...2", nil},
		{"1.2.3", v4(0x01020003, 0)},
		{"1.2.3.", nil},
		{"1.2.3:1", v4(0x01020003, 1)},
		{"203569230", v4(0x0c22384e, 0)},
		{"203569230:123", v4(0x0c22384e, 123)},
		{"2001::1", nil},
		{"1.223756", v4(0x01036a0c, 0)},
		{"3.4.756", v4(0x030402f4, 0)},
		{"756.3.4", nil},
		{"3.756.4", nil},
		{"3.4.756.1", nil},
		{"3.4.65536", nil},
		{"3.4.5.6.7", nil},
		{"3.4.5.+6", nil},
		{" 3.4.5.6", nil},
		{"\t3.4.5.6", nil},
		{"3.4.5.6 ", nil},
		{"3.4.5.6:7 ", nil},
		{"3.4.5.6: 7", nil},
		{"3. 4.5.6", nil},
		{".", nil},
		{"[0.1.2.3]", nil},
		{"0x00010203", v4(0x00010203, 0)},
		{"0X00010203", v4(0x00010203, 0)},
		{"0x00010203:10", v4(0x00010203, 10)},
		{"0x1234", v4(0x00001234, 0)},
		{"0x123456789", v4(0x23456789, 0)},
		{"0x00010Q03", nil},
		{"x00010203", nil},
		{"1234BEEF", nil},
		{"017700000001", v4(0x7f000001, 0)},
		{"0777", v4(0x000001ff, 0)},
		{"0777:10", v4(0x000001ff, 10)},
		{"::1", nil},
		{":1", nil},
	} {
		got, err := ParseSockaddrString(c.in, AF_INET)
		if c.want == nil {
			if err != WSAEINVAL || got != nil {
				t.Errorf("ParseSockaddrString(%q, AF_INET) = %v, %v; want WSAEINVAL", c.in, got, err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("ParseSockaddrString(%q, AF_INET) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}

	for _, c := range []struct {
		in   string
		want Sockaddr // nil: WSAEINVAL
	}{
		{"::1", v6sa("::1", 0, 0)},
		{"[::1]", v6sa("::1", 0, 0)},
		{"[::1]:65535", v6sa("::1", 65535, 0)},
		{"[::1]:65536", nil},
		{"[::1]:", nil},
		{"[::1]:0", nil},
		{"[::1]:0x50", v6sa("::1", 80, 0)},
		{"[::1]:0x0", v6sa("::1", 0, 0)},
		{"[::1]:0x10000", nil},
		{"2001::1", v6sa("2001::1", 0, 0)},
		{"::1]:65535", nil},
		{"[::1", nil},
		{"[::1]80", nil},
		{"001::1", v6sa("1::1", 0, 0)},
		{"::1:2:3:4:5:6:7", v6sa("0:1:2:3:4:5:6:7", 0, 0)},
		{"1.2.3.4", nil},
		{"1:2:3:", nil},
		{"", nil},
		{"[fe80::1%3]:80", v6sa("fe80::1", 80, 3)},
		{"fe80::1%3", v6sa("fe80::1", 0, 3)},
		{"[fe80::1%3]", v6sa("fe80::1", 0, 3)},
		{"fe80::1%", nil},
		{"fe80::1%eth0", nil},
		{"fe80::1%4294967296", nil},
		{"fe80::1%4294967295", v6sa("fe80::1", 0, 4294967295)},
		{"fe80::1:80", v6sa("fe80::1:80", 0, 0)},
		{"::ffff:1.2.3.4", v6sa("::ffff:1.2.3.4", 0, 0)},
		{"[::ffff:1.2.3.4]:443", v6sa("::ffff:1.2.3.4", 443, 0)},
		{" ::1", nil},
		{"::1 ", nil},
		{"[ ::1]", nil},
	} {
		got, err := ParseSockaddrString(c.in, AF_INET6)
		if c.want == nil {
			if err != WSAEINVAL || got != nil {
				t.Errorf("ParseSockaddrString(%q, AF_INET6) = %v, %v; want WSAEINVAL", c.in, got, err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("ParseSockaddrString(%q, AF_INET6) = %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}

	for _, af := range []int32{AF_UNSPEC, AF_UNIX, AF_IPX, 99} {
		if sa, err := ParseSockaddrString("1.2.3.4", af); err != WSAEINVAL || sa != nil {
			t.Errorf("af %d: %v, %v", af, sa, err)
		}
	}
	// Family mismatch.
	if _, err := ParseSockaddrString("[::1]:80", AF_INET); err != WSAEINVAL {
		t.Errorf("v6 string as AF_INET: %v", err)
	}
	if _, err := ParseSockaddrString("1.2.3.4:80", AF_INET6); err != WSAEINVAL {
		t.Errorf("v4 string as AF_INET6: %v", err)
	}
}

func TestFormatParseRoundTrip(t *testing.T) {
	for _, sa := range []Sockaddr{
		&SockaddrInet4{Addr: [4]byte{10, 0, 0, 1}, Port: 8080},
		&SockaddrInet4{Addr: [4]byte{10, 0, 0, 1}},
		v6sa("fe80::1", 80, 3),
		v6sa("2001:db8:0:0:1:0:0:1", 1, 0),
		v6sa("::ffff:0:1.2.3.4", 0, 12),
		v6sa("fe80::200:5efe:10.0.0.1", 65535, 0),
		v6sa("::", 0, 0),
	} {
		s := FormatSockaddr(sa)
		back, err := ParseSockaddrString(s, sa.Family())
		if err != nil || !reflect.DeepEqual(back, sa) {
			t.Errorf("%q parses back as %+v, %v; want %+v", s, back, err, sa)
		}
	}
}

func TestSockaddrBinary(t *testing.T) {
	v4 := &SockaddrInet4{Port: 0x1234, Addr: [4]byte{192, 168, 0, 1}}
	b := bytes.Repeat([]byte{0xee}, SizeofSockaddrStorage)
	n, err := v4.Marshal(b)
	if err != nil || n != 16 || !bytes.Equal(b[:16], []byte{2, 0, 0x12, 0x34, 192, 168, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0}) {
		t.Errorf("v4 Marshal = %d, %v, % x", n, err, b[:16])
	}
	got, err := ParseSockaddr(b[:16])
	if err != nil || !reflect.DeepEqual(got, v4) {
		t.Errorf("v4 ParseSockaddr = %+v, %v", got, err)
	}

	v6 := &SockaddrInet6{Port: 443, FlowInfo: 0x01020304, Addr: netip.MustParseAddr("fe80::1").As16(), ZoneId: 7}
	n, err = v6.Marshal(b)
	want := []byte{23, 0, 0x01, 0xbb, 1, 2, 3, 4, 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 7, 0, 0, 0}
	if err != nil || n != 28 || !bytes.Equal(b[:28], want) {
		t.Errorf("v6 Marshal = %d, %v, % x", n, err, b[:28])
	}
	got, err = ParseSockaddr(b[:28])
	if err != nil || !reflect.DeepEqual(got, v6) {
		t.Errorf("v6 ParseSockaddr = %+v, %v", got, err)
	}
	if ap := got.AddrPort(); ap.String() != "[fe80::1%7]:443" {
		t.Errorf("AddrPort = %v", ap)
	}
	if back := SockaddrFromAddrPort(got.AddrPort()); !reflect.DeepEqual(back, &SockaddrInet6{Port: 443, Addr: v6.Addr, ZoneId: 7}) {
		t.Errorf("SockaddrFromAddrPort = %+v", back)
	}

	// Short buffers and unknown families.
	if _, err := v4.Marshal(b[:15]); err != WSAEFAULT {
		t.Errorf("v4 short Marshal = %v", err)
	}
	if _, err := v6.Marshal(b[:27]); err != WSAEFAULT {
		t.Errorf("v6 short Marshal = %v", err)
	}
	if _, err := (&SockaddrInet4{Port: 70000}).Marshal(b); err != WSAEINVAL {
		t.Errorf("bad port Marshal = %v", err)
	}
	for _, c := range []struct {
		in  []byte
		err error
	}{
		{nil, WSAEFAULT},
		{[]byte{2}, WSAEFAULT},
		{[]byte{2, 0, 0, 80, 1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0}, WSAEFAULT},
		{append([]byte{23, 0}, make([]byte, 25)...), WSAEFAULT},
		{append([]byte{1, 0}, make([]byte, 108)...), WSAEAFNOSUPPORT},
		{append([]byte{0, 0}, make([]byte, 26)...), WSAEAFNOSUPPORT},
		{append([]byte{2, 1}, make([]byte, 14)...), WSAEAFNOSUPPORT}, // family 0x102
	} {
		if sa, err := ParseSockaddr(c.in); err != c.err || sa != nil {
			t.Errorf("ParseSockaddr(% x) = %v, %v; want %v", c.in, sa, err, c.err)
		}
	}
}
