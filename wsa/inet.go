package wsa

import (
	"net/netip"
	"strconv"
	"strings"
)

// Byte order. Windows runs little-endian only, so htons and friends always
// swap: a value stored with the Windows (little-endian) layout of the
// structures in this package then reads in network order, exactly as in C on
// Windows. SockaddrInet4/6 keep ports in host order and need none of this.

// Htons is htons: a u_short from host to network byte order.
func Htons(v uint16) uint16 { return v<<8 | v>>8 }

// Ntohs is ntohs: a u_short from network to host byte order.
func Ntohs(v uint16) uint16 { return Htons(v) }

// Htonl is htonl: a u_long from host to network byte order.
func Htonl(v uint32) uint32 {
	return v<<24 | (v<<8)&0x00ff0000 | (v>>8)&0x0000ff00 | v>>24
}

// Ntohl is ntohl: a u_long from network to host byte order.
func Ntohl(v uint32) uint32 { return Htonl(v) }

// ipv4Part parses one part of an IPv4 string as RtlIpv4StringToAddress does:
// "0x"/"0X" introduces hex, a leading 0 followed by a digit octal, otherwise
// decimal (strict: decimal only). It returns the value modulo 2^32 (C ULONG
// arithmetic), whether it overflowed 32 bits, and the rest of s. ok is false
// when no digit was read or a prefix is not allowed.
func ipv4Part(s string, strict bool) (v uint32, overflow bool, rest string, ok bool) {
	base := uint64(10)
	if len(s) > 1 && s[0] == '0' {
		switch {
		case s[1] == 'x' || s[1] == 'X':
			s, base = s[2:], 16
		case s[1] >= '0' && s[1] <= '9':
			s, base = s[1:], 8
		}
	}
	if strict && base != 10 {
		return 0, false, s, false
	}
	var acc uint64
	n := 0
	for ; n < len(s); n++ {
		c := s[n]
		var d uint64
		switch {
		case c >= '0' && c <= '9' && (base > 8 || c <= '7'):
			d = uint64(c - '0')
		case base == 16 && c >= 'a' && c <= 'f':
			d = uint64(c-'a') + 10
		case base == 16 && c >= 'A' && c <= 'F':
			d = uint64(c-'A') + 10
		default:
			goto done
		}
		acc = acc*base + d
		if acc > 0xffffffff {
			overflow = true
			acc &= 0xffffffff
		}
	}
done:
	return uint32(acc), overflow, s[n:], n > 0
}

// parseIPv4 parses the address part of an IPv4 string as
// RtlIpv4StringToAddress does and returns it in host order with the rest of
// the string. Non-strict: 1 to 4 parts (a, a.b, a.b.c, a.b.c.d), the last
// filling the remaining bytes, each part decimal, octal or hex, arithmetic
// modulo 2^32 as in C. Strict: exactly 4 decimal parts of at most 255.
func parseIPv4(s string, strict bool) (addr uint32, rest string, ok bool) {
	var vals [4]uint32
	parts := 0
	for {
		v, ovf, r, good := ipv4Part(s, strict)
		if !good || (strict && ovf) {
			return 0, r, false
		}
		vals[parts] = v
		parts++
		s = r
		if s == "" || s[0] != '.' {
			break
		}
		if parts == 4 {
			return 0, s, false
		}
		s = s[1:]
	}
	if strict && parts < 4 {
		return 0, s, false
	}
	addr = vals[parts-1]
	for i := 0; i < parts-1; i++ {
		shift := 8 * (3 - i)
		if vals[i] > 0xff || addr&(0xff<<shift) != 0 {
			return 0, s, false
		}
		addr |= vals[i] << shift
	}
	return addr, s, true
}

// parseIPv6 parses an IPv6 address (no zone, no brackets) at the start of s
// and returns it with the rest of s. An IPv4 address is not an IPv6 one.
func parseIPv6(s string) (a [16]byte, rest string, ok bool) {
	n := 0
	for n < len(s) && (s[n] == ':' || s[n] == '.' || isHex(s[n])) {
		n++
	}
	ip, err := netip.ParseAddr(s[:n])
	if err != nil || !ip.Is6() || ip.Zone() != "" {
		return a, s, false
	}
	return ip.As16(), s[n:], true
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// parseDecimal32 reads one or more decimal digits at the start of s; ok is
// false if there are none or the value exceeds 32 bits.
func parseDecimal32(s string) (v uint32, rest string, ok bool) {
	n := 0
	var acc uint64
	for ; n < len(s) && s[n] >= '0' && s[n] <= '9'; n++ {
		acc = acc*10 + uint64(s[n]-'0')
		if acc > 0xffffffff {
			return 0, s, false
		}
	}
	return uint32(acc), s[n:], n > 0
}

// InetPton is inet_pton/InetPton: it converts the text form of an IPv4
// (af AF_INET, strict dotted decimal: four decimal parts 0-255, no octal,
// hex or shorthand, as RtlIpv4StringToAddress with Strict) or IPv6 (af
// AF_INET6, RFC 4291 text including an embedded IPv4 tail, no zone and no
// brackets) address to its 4- or 16-byte network-order form. An af other
// than AF_INET or AF_INET6 is WSAEAFNOSUPPORT (C: -1 and WSAEAFNOSUPPORT).
// A string that is not an address of that family is WSAEINVAL; the C
// function returns 0 in that case, so a C-shaped wrapper maps WSAEINVAL from
// here to a return value of 0.
func InetPton(af int32, s string) ([]byte, error) {
	switch af {
	case AF_INET:
		a, rest, ok := parseIPv4(s, true)
		if !ok || rest != "" {
			return nil, WSAEINVAL
		}
		return []byte{byte(a >> 24), byte(a >> 16), byte(a >> 8), byte(a)}, nil
	case AF_INET6:
		a, rest, ok := parseIPv6(s)
		if !ok || rest != "" {
			return nil, WSAEINVAL
		}
		return a[:], nil
	default:
		return nil, WSAEAFNOSUPPORT
	}
}

// InetNtop is inet_ntop/InetNtop: it formats a 4-byte (AF_INET) or 16-byte
// (AF_INET6) network-order address as Windows does (see FormatSockaddr for
// the IPv6 form). Only the first 4 or 16 bytes of addr are used; a shorter
// addr is WSAEFAULT. Another af is WSAEAFNOSUPPORT.
func InetNtop(af int32, addr []byte) (string, error) {
	switch af {
	case AF_INET:
		if len(addr) < 4 {
			return "", WSAEFAULT
		}
		return InetNtoa([4]byte(addr[:4])), nil
	case AF_INET6:
		if len(addr) < 16 {
			return "", WSAEFAULT
		}
		return formatIPv6([16]byte(addr[:16])), nil
	default:
		return "", WSAEAFNOSUPPORT
	}
}

// InetAddr is inet_addr: it parses a, a.b, a.b.c or a.b.c.d where each part
// is decimal, octal (leading 0) or hex (0x), the last part filling the
// remaining bytes ("127.1" is 127.0.0.1, "0x7f.1" too). As on Windows,
// parsing stops at the first white-space character (the rest is ignored), a
// string of a single space is 0.0.0.0, and a part above 255 (or a last part
// too big for its bytes) fails.
//
// Unlike C, the result is in host byte order (a<<24 | b<<16 | c<<8 | d), so
// it compares with INADDR_LOOPBACK and INADDR_NONE; Htonl gives the C value.
// A string that is not an address returns INADDR_NONE and WSAEINVAL (C
// returns INADDR_NONE only, which "255.255.255.255" also gives; here that
// one returns INADDR_NONE and nil).
func InetAddr(s string) (uint32, error) {
	if s == " " {
		return 0, nil
	}
	var vals [4]uint32
	i := 0
	for {
		if s == "" || s[0] < '0' || s[0] > '9' {
			return INADDR_NONE, WSAEINVAL
		}
		v, rest := strtoul32(s)
		vals[i] = v
		s = rest
		if s == "" || isSpace(s[0]) {
			break
		}
		if s[0] != '.' || i == 3 {
			return INADDR_NONE, WSAEINVAL
		}
		s = s[1:]
		i++
	}
	// The last part fills the remaining bytes.
	last := vals[i]
	for j := 3; j > i; j-- {
		vals[j] = last & 0xff
		last >>= 8
	}
	vals[i] = last
	var a uint32
	for _, v := range vals {
		if v > 255 {
			return INADDR_NONE, WSAEINVAL
		}
		a = a<<8 | v
	}
	return a, nil
}

// strtoul32 is strtoul(s, &end, 0) on Windows (32-bit unsigned long) for a
// string starting with a digit: 0x hex, leading-0 octal or decimal,
// saturating at 0xffffffff.
func strtoul32(s string) (uint32, string) {
	base := uint64(10)
	if len(s) > 1 && s[0] == '0' {
		base = 8
		if (s[1] == 'x' || s[1] == 'X') && len(s) > 2 && isHex(s[2]) {
			base, s = 16, s[2:]
		}
	}
	var acc uint64
	n := 0
	for ; n < len(s); n++ {
		c := s[n]
		var d uint64
		switch {
		case c >= '0' && c <= '9' && (base > 8 || c <= '7'):
			d = uint64(c - '0')
		case base == 16 && c >= 'a' && c <= 'f':
			d = uint64(c-'a') + 10
		case base == 16 && c >= 'A' && c <= 'F':
			d = uint64(c-'A') + 10
		default:
			goto done
		}
		acc = acc*base + d
		if acc > 0xffffffff {
			acc = 0x100000000 // saturate, keep consuming digits
		}
	}
done:
	if acc > 0xffffffff {
		acc = 0xffffffff
	}
	return uint32(acc), s[n:]
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// InetNtoa is inet_ntoa: the dotted-decimal form of an in_addr given as its
// four bytes in network order.
func InetNtoa(in [4]byte) string {
	var b [15]byte
	buf := strconv.AppendUint(b[:0], uint64(in[0]), 10)
	for _, x := range in[1:] {
		buf = append(buf, '.')
		buf = strconv.AppendUint(buf, uint64(x), 10)
	}
	return string(buf)
}

// formatIPv6 formats an IPv6 address as RtlIpv6AddressToString (and so
// inet_ntop and WSAAddressToString) does: lower-case hex without leading
// zeros; the first run of two or more zero groups becomes "::"; ::a.b.c.d
// (IPv4-compatible, except :: and ::x with x < 0x10000), ::ffff:a.b.c.d
// (IPv4-mapped) and ::ffff:0:a.b.c.d (IPv4-translated) end in dotted
// decimal, and so does the ISATAP form (interface id 0:5efe or 200:5efe).
func formatIPv6(a [16]byte) string {
	var w [8]uint16
	for i := range w {
		w[i] = uint16(a[2*i])<<8 | uint16(a[2*i+1])
	}
	v4 := func(b []byte) []byte {
		for i, x := range a[12:16] {
			if i > 0 {
				b = append(b, '.')
			}
			b = strconv.AppendUint(b, uint64(x), 10)
		}
		return b
	}
	buf := make([]byte, 0, 46)
	if w[0] == 0 && w[1] == 0 && w[2] == 0 && w[3] == 0 && w[6] != 0 {
		prefix := ""
		ok := true
		switch {
		case w[4] == 0 && w[5] == 0xffff:
			prefix = "ffff:"
		case w[4] == 0xffff && w[5] == 0:
			prefix = "ffff:0:"
		case w[4] == 0 && w[5] == 0:
		default:
			ok = false
		}
		if ok {
			buf = append(buf, "::"...)
			buf = append(buf, prefix...)
			return string(v4(buf))
		}
	}
	parts := 8
	if w[4]&0xfdff == 0 && w[5] == 0x5efe {
		parts = 6 // ISATAP: ...:0:5efe:a.b.c.d
	}
	skipped := false
	for n := 0; n < parts; n++ {
		if !skipped && n+1 < parts && w[n] == 0 && w[n+1] == 0 {
			skipped = true
			for n+1 < parts && w[n+1] == 0 {
				n++
			}
			buf = append(buf, ':')
			if n+1 >= parts {
				buf = append(buf, ':')
			}
			continue
		}
		if n > 0 {
			buf = append(buf, ':')
		}
		buf = strconv.AppendUint(buf, uint64(w[n]), 16)
	}
	if parts < 8 {
		buf = append(buf, ':')
		buf = v4(buf)
	}
	return string(buf)
}

// FormatSockaddr gives the WSAAddressToString form of sa, the one place ws2
// does this translation: "a.b.c.d" or "a.b.c.d:port" for IPv4; for IPv6
// "addr", "addr%scope", "[addr]:port" or "[addr%scope]:port", addr in the
// form InetNtop gives (RtlIpv6AddressToString rules: lower-case hex, the
// first run of two or more zero groups as "::", dotted decimal for the
// IPv4-compatible, -mapped, -translated and ISATAP forms). The port is shown only when
// non-zero, the scope only when non-zero; flow info is never shown. A nil
// Sockaddr gives "".
func FormatSockaddr(sa Sockaddr) string {
	switch sa := sa.(type) {
	case *SockaddrInet4:
		if sa == nil {
			return ""
		}
		s := InetNtoa(sa.Addr)
		if p := uint16(sa.Port); p != 0 {
			s += ":" + strconv.FormatUint(uint64(p), 10)
		}
		return s
	case *SockaddrInet6:
		if sa == nil {
			return ""
		}
		var b strings.Builder
		p := uint16(sa.Port)
		if p != 0 {
			b.WriteByte('[')
		}
		b.WriteString(formatIPv6(sa.Addr))
		if sa.ZoneId != 0 {
			b.WriteByte('%')
			b.WriteString(uitoa(sa.ZoneId))
		}
		if p != 0 {
			b.WriteString("]:")
			b.WriteString(strconv.FormatUint(uint64(p), 10))
		}
		return b.String()
	default:
		return ""
	}
}

// ParseSockaddrString is the WSAStringToAddress parse, the one place ws2 does
// this translation. af must be AF_INET or AF_INET6 (anything else is
// WSAEINVAL, as Windows reports when no provider handles the family); a
// string that does not parse is WSAEINVAL.
//
// AF_INET (RtlIpv4StringToAddressEx, non-strict): the address as inet_addr
// takes it but with no trailing text (a, a.b, a.b.c or a.b.c.d, parts
// decimal, octal or 0x hex), then optionally ":port" with the port decimal,
// octal or hex, 1 to 65535 (":0" is refused, as on Windows).
//
// AF_INET6 (RtlIpv6StringToAddressEx): "addr", "addr%scope", "[addr]",
// "[addr%scope]" or either bracketed form followed by ":port"; scope is
// decimal; port is decimal, or hex after "0x" (a port starting with another
// 0 is refused), at most 65535. No white space anywhere. The result has
// FlowInfo 0.
func ParseSockaddrString(s string, af int32) (Sockaddr, error) {
	switch af {
	case AF_INET:
		a, rest, ok := parseIPv4(s, false)
		if !ok {
			return nil, WSAEINVAL
		}
		sa := &SockaddrInet4{Addr: [4]byte{byte(a >> 24), byte(a >> 16), byte(a >> 8), byte(a)}}
		if rest == "" {
			return sa, nil
		}
		if rest[0] != ':' {
			return nil, WSAEINVAL
		}
		p, ovf, rest, ok := ipv4Part(rest[1:], false)
		if !ok || ovf || rest != "" || p == 0 || p > 0xffff {
			return nil, WSAEINVAL
		}
		sa.Port = int(p)
		return sa, nil
	case AF_INET6:
		bracket := strings.HasPrefix(s, "[")
		if bracket {
			s = s[1:]
		}
		a, rest, ok := parseIPv6(s)
		if !ok {
			return nil, WSAEINVAL
		}
		sa := &SockaddrInet6{Addr: a}
		if strings.HasPrefix(rest, "%") {
			z, r, ok := parseDecimal32(rest[1:])
			if !ok {
				return nil, WSAEINVAL
			}
			sa.ZoneId, rest = z, r
		}
		if bracket {
			if !strings.HasPrefix(rest, "]") {
				return nil, WSAEINVAL
			}
			rest = rest[1:]
			if strings.HasPrefix(rest, ":") {
				rest = rest[1:]
				var p uint32
				if strings.HasPrefix(rest, "0") {
					if len(rest) < 2 || (rest[1] != 'x' && rest[1] != 'X') {
						return nil, WSAEINVAL
					}
					rest = rest[2:]
					n := 0
					for ; n < len(rest) && isHex(rest[n]) && p <= 0xffff; n++ {
						d, _ := strconv.ParseUint(rest[n:n+1], 16, 8)
						p = p<<4 | uint32(d)
					}
					if n == 0 {
						return nil, WSAEINVAL
					}
					rest = rest[n:]
				} else {
					p, rest, ok = parseDecimal32(rest)
					if !ok {
						return nil, WSAEINVAL
					}
				}
				if p > 0xffff {
					return nil, WSAEINVAL
				}
				sa.Port = int(p)
			}
		}
		if rest != "" {
			return nil, WSAEINVAL
		}
		return sa, nil
	default:
		return nil, WSAEINVAL
	}
}
