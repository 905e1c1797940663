package filter

import (
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	rs, err := ParseString(`
# the examples
deny out tcp 198.18.0.0/15 80
allow in udp ::/0 53-54      # DNS
DENY In Any any
allow any any 10.1.2.3/8 any
deny out udp 2001:db8::1
allow out tcp ::ffff:192.0.2.0/120 443
`)
	if err != nil {
		t.Fatal(err)
	}
	want := Rules{
		{Deny, Out, TCP, netip.MustParsePrefix("198.18.0.0/15"), PortRange{80, 80}},
		{Allow, In, UDP, netip.MustParsePrefix("::/0"), PortRange{53, 54}},
		{Deny, In, AnyProtocol, netip.Prefix{}, AnyPort},
		{Allow, AnyDirection, AnyProtocol, netip.MustParsePrefix("10.0.0.0/8"), AnyPort},
		{Deny, Out, UDP, netip.MustParsePrefix("2001:db8::1/128"), AnyPort},
		{Allow, Out, TCP, netip.MustParsePrefix("192.0.2.0/24"), PortRange{443, 443}},
	}
	if !reflect.DeepEqual(rs, want) {
		t.Fatalf("got\n%v\nwant\n%v", rs, want)
	}
	if got := rs.String(); got != `deny out tcp 198.18.0.0/15 80
allow in udp ::/0 53-54
deny in any any
allow any any 10.0.0.0/8
deny out udp 2001:db8::1/128
allow out tcp 192.0.2.0/24 443
` {
		t.Errorf("String:\n%s", got)
	}
}

func TestParseErrors(t *testing.T) {
	for _, line := range []string{
		"deny",
		"deny out tcp",
		"deny out tcp any 80 extra",
		"block out tcp any",
		"deny up tcp any",
		"deny out icmp any",
		"deny out tcp 300.1.1.1",
		"deny out tcp 10.0.0.0/33",
		"deny out tcp fe80::1%eth0",
		"deny out tcp ::ffff:0.0.0.0/90",
		"deny out tcp any 65536",
		"deny out tcp any 80-79",
		"deny out tcp any -1",
		"deny out tcp any 1-",
		"deny out tcp any +80",
		"deny out tcp any 0x50",
	} {
		_, err := ParseString("allow out tcp any\n" + line + "\n")
		pe, ok := err.(*ParseError)
		if !ok || pe.Line != 2 || pe.Text != line {
			t.Errorf("%q: %v", line, err)
		}
	}
}

func TestParseFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "rules")
	if err := os.WriteFile(p, []byte("deny out tcp any 25\nnonsense\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := ParseFile(p)
	if err == nil || !strings.Contains(err.Error(), p+":2") {
		t.Fatalf("error %v does not name the file and line", err)
	}
	if _, err := ParseFile(filepath.Join(dir, "missing")); err == nil {
		t.Fatal("a missing file parsed")
	}
}

func TestDecide(t *testing.T) {
	rs, _ := ParseString(`
allow out tcp 198.18.0.7 80
deny out tcp 198.18.0.0/15 80
deny in udp ::/0 53-54
deny any any 203.0.113.0/24
`)
	a := netip.MustParseAddr
	for _, c := range []struct {
		dir   Direction
		proto Protocol
		addr  string
		port  uint16
		want  Action
	}{
		{Out, TCP, "198.18.0.7", 80, Allow}, // first match wins
		{Out, TCP, "198.19.1.1", 80, Deny},
		{Out, TCP, "::ffff:198.19.1.1", 80, Deny}, // mapped matches as IPv4
		{Out, TCP, "198.19.1.1", 81, Allow},
		{Out, UDP, "198.19.1.1", 80, Allow},
		{In, TCP, "198.19.1.1", 80, Allow},
		{In, UDP, "2001:db8::1", 53, Deny},
		{In, UDP, "2001:db8::1", 55, Allow},
		{In, UDP, "192.0.2.1", 53, Allow}, // ::/0 is IPv6 only
		{In, AnyProtocol, "203.0.113.9", 1, Deny},
		{Out, TCP, "203.0.113.9", 443, Deny},
		{Out, TCP, "192.0.2.1", 443, Allow}, // default
	} {
		if got := rs.Decide(c.dir, c.proto, a(c.addr), c.port); got != c.want {
			t.Errorf("%v %v %s %d: %v, want %v", c.dir, c.proto, c.addr, c.port, got, c.want)
		}
	}
}

// FuzzParse: the parser never panics, and whatever it accepts prints back
// to the same rules.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"deny out tcp 198.18.0.0/15 80",
		"allow in udp ::/0 53-54",
		"deny any any any\n# c\n\nallow out tcp 10.1.2.3 1-65535",
		"deny out tcp ::ffff:1.2.3.4/112 0",
		"allow\tIN\tUDP\tfe80::/10\tany #x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		rs, err := ParseString(s)
		if err != nil {
			return
		}
		again, err := ParseString(rs.String())
		if err != nil {
			t.Fatalf("String of %q does not parse: %v\n%s", s, err, rs.String())
		}
		if !reflect.DeepEqual(rs, again) && !(len(rs) == 0 && len(again) == 0) {
			t.Fatalf("round trip of %q:\n%v\n%v", s, rs, again)
		}
	})
}
