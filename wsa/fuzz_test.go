package wsa

import (
	"bytes"
	"reflect"
	"testing"
)

// The fuzz targets never panic and round-trip where a round trip applies.
// Run locally, for example: go test -run=^$ -fuzz=FuzzParseSockaddr$ -fuzztime=20s ./wsa/

func FuzzParseSockaddr(f *testing.F) {
	f.Add([]byte{2, 0, 0, 80, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Add(append([]byte{23, 0, 1, 187, 0, 0, 0, 1, 0xfe, 0x80}, make([]byte, 18)...))
	f.Add([]byte{1, 0})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		sa, err := ParseSockaddr(b)
		if err != nil {
			if sa != nil {
				t.Fatalf("error %v with a Sockaddr", err)
			}
			return
		}
		out := make([]byte, sa.Len())
		n, err := sa.Marshal(out)
		if err != nil || n != sa.Len() {
			t.Fatalf("Marshal = %d, %v", n, err)
		}
		// sockaddr_in's sin_zero is not kept; everything else is.
		want := b[:n]
		if sa.Family() == AF_INET {
			want = append(append([]byte(nil), b[:8]...), make([]byte, 8)...)
		}
		if !bytes.Equal(out, want) {
			t.Fatalf("round trip % x -> % x", b[:n], out)
		}
		back, err := ParseSockaddr(out)
		if err != nil || !reflect.DeepEqual(back, sa) {
			t.Fatalf("reparse = %+v, %v", back, err)
		}
		_ = FormatSockaddr(sa)
	})
}

func FuzzParseSockaddrString(f *testing.F) {
	for _, s := range []string{
		"1.2.3.4", "1.2.3.4:80", "0x7f.1:0x50", "017700000001", "[fe80::1%3]:80",
		"fe80::1%3", "::ffff:1.2.3.4", "[::1]:0x0", "1:1", "", "[", "::", "1.2.3.4:0",
	} {
		f.Add(s, int32(AF_INET))
		f.Add(s, int32(AF_INET6))
	}
	f.Fuzz(func(t *testing.T, s string, af int32) {
		sa, err := ParseSockaddrString(s, af)
		if err != nil {
			if err != WSAEINVAL || sa != nil {
				t.Fatalf("%q: %v, %v", s, sa, err)
			}
			return
		}
		if sa.Family() != af {
			t.Fatalf("%q: family %d for af %d", s, sa.Family(), af)
		}
		// The canonical form parses back to the same address.
		text := FormatSockaddr(sa)
		back, err := ParseSockaddrString(text, af)
		if err != nil || !reflect.DeepEqual(back, sa) {
			t.Fatalf("%q -> %q -> %+v, %v; want %+v", s, text, back, err, sa)
		}
		if again := FormatSockaddr(back); again != text {
			t.Fatalf("format not stable: %q then %q", text, again)
		}
	})
}

func FuzzUnmarshalProtocolInfo(f *testing.F) {
	b := make([]byte, SizeofProtocolInfo)
	p := msafdTCP()
	_ = p.Marshal(b)
	f.Add(b)
	f.Add(make([]byte, SizeofProtocolInfo))
	f.Add(bytes.Repeat([]byte{0xff}, SizeofProtocolInfo))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := UnmarshalProtocolInfo(b)
		if err != nil {
			return
		}
		out := make([]byte, SizeofProtocolInfo)
		if err := p.Marshal(out); err != nil {
			// Only a name that grows past 255 units when invalid UTF-16
			// becomes U+FFFD could fail; U+FFFD is one unit, so never.
			t.Fatalf("Marshal of an unmarshalled entry: %v (%q)", err, p.ProtocolName)
		}
		if !bytes.Equal(out[:offProtocolName], b[:offProtocolName]) {
			t.Fatalf("fixed fields changed:\n% x\n% x", b[:offProtocolName], out[:offProtocolName])
		}
		q, err := UnmarshalProtocolInfo(out)
		if err != nil || q != p {
			t.Fatalf("round trip %+v -> %+v, %v", p, q, err)
		}
	})
}

func FuzzInetAddr(f *testing.F) {
	for _, s := range []string{"127.0.0.1", "0x7f.1", "127.1", "1.2.3.256", "255.255.255.255", " ", "", "1.2.3.4 x", "0777", "99999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := InetAddr(s)
		if err != nil {
			if a != INADDR_NONE || err != WSAEINVAL {
				t.Fatalf("%q: %#x, %v", s, a, err)
			}
			return
		}
		// The dotted form of the result reads back the same, through
		// inet_addr, inet_pton and WSAStringToAddress.
		dotted := InetNtoa([4]byte{byte(a >> 24), byte(a >> 16), byte(a >> 8), byte(a)})
		if b, err := InetAddr(dotted); err != nil || b != a {
			t.Fatalf("%q -> %#x -> %q -> %#x, %v", s, a, dotted, b, err)
		}
		if p, err := InetPton(AF_INET, dotted); err != nil || uint32(p[0])<<24|uint32(p[1])<<16|uint32(p[2])<<8|uint32(p[3]) != a {
			t.Fatalf("InetPton(%q) = % x, %v", dotted, p, err)
		}
		if sa, err := ParseSockaddrString(dotted, AF_INET); err != nil || FormatSockaddr(sa) != dotted {
			t.Fatalf("ParseSockaddrString(%q) = %v, %v", dotted, sa, err)
		}
	})
}
