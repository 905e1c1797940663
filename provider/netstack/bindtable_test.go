package netstack

import (
	"net/netip"
	"testing"

	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"

	"github.com/ws2go/ws2/wsa"
)

var (
	specific = netip.MustParseAddr("192.0.2.1")
	other4   = netip.MustParseAddr("192.0.2.2")
	spec6    = netip.MustParseAddr("2001:db8::1")
)

func entry4(opt bindOpt, wild bool) *bindEntry {
	e := &bindEntry{opt: opt, v4: true}
	if !wild {
		e.a4 = specific
	}
	return e
}

// TestBindTableCells checks all 36 cells of the same-user table of spec
// §5.7, row by row as the Microsoft page lists them.
func TestBindTableCells(t *testing.T) {
	type kind struct {
		opt  bindOpt
		wild bool
		name string
	}
	kinds := []kind{
		{optDefault, true, "DefW"}, {optDefault, false, "DefS"},
		{optReuse, true, "ReuseW"}, {optReuse, false, "ReuseS"},
		{optExclusive, true, "ExclW"}, {optExclusive, false, "ExclS"},
	}
	const (
		O = 0
		I = wsa.WSAEADDRINUSE
		A = wsa.WSAEACCES
	)
	want := [6][6]wsa.Errno{
		{I, O, A, O, I, O},
		{O, I, O, A, I, I},
		{I, O, O, O, I, O},
		{O, I, O, O, I, I},
		{I, A, A, A, I, A},
		{O, I, O, A, I, I},
	}
	for i, first := range kinds {
		for j, second := range kinds {
			err := conflict(entry4(first.opt, first.wild), entry4(second.opt, second.wild))
			var got wsa.Errno
			if err != nil {
				got = err.(wsa.Errno)
			}
			if got != want[i][j] {
				t.Errorf("%s then %s: %v, want %v", first.name, second.name, got.Name(), want[i][j].Name())
			}
		}
	}
}

func TestBindConflictFamilies(t *testing.T) {
	dual := &bindEntry{v4: true, v6: true}                     // dual-stack wildcard
	only6 := &bindEntry{v6: true}                              // IPV6_V6ONLY wildcard
	spec4 := &bindEntry{v4: true, a4: specific}                // IPv4 specific
	mapped := &bindEntry{v4: true, a4: specific}               // v4-mapped bind of an AF_INET6 socket
	otherSpec := &bindEntry{v4: true, a4: other4}              // another specific address
	spec6e := &bindEntry{v6: true, a6: spec6}                  // IPv6 specific
	wild4 := &bindEntry{v4: true}                              // IPv4 wildcard
	reuse4 := &bindEntry{opt: optReuse, v4: true}              // IPv4 wildcard, SO_REUSEADDR
	excl6 := &bindEntry{opt: optExclusive, v6: true, v4: true} // dual-stack exclusive wildcard
	for _, c := range []struct {
		name       string
		first, sec *bindEntry
		want       error
	}{
		{"v4 wildcard then dual-stack wildcard", wild4, dual, wsa.WSAEADDRINUSE},
		{"dual-stack wildcard then v4 wildcard", dual, wild4, wsa.WSAEADDRINUSE},
		{"v6-only wildcard then v4 wildcard", only6, wild4, nil},
		{"v4 wildcard then v6-only wildcard", wild4, only6, nil},
		{"dual-stack then v4 specific", dual, spec4, nil},
		{"dual-stack then v6 specific", dual, spec6e, nil},
		{"v4 specific then v4-mapped same address", spec4, mapped, wsa.WSAEADDRINUSE},
		{"different specific addresses", spec4, otherSpec, nil},
		{"v6 specific then v4 specific", spec6e, spec4, nil},
		{"reuse v4 wildcard then dual-stack default", reuse4, dual, wsa.WSAEADDRINUSE},
		{"default v4 wildcard then dual-stack exclusive", wild4, excl6, wsa.WSAEADDRINUSE},
		{"dual-stack exclusive then v4 specific", excl6, spec4, wsa.WSAEACCES},
	} {
		if got := conflict(c.first, c.sec); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

func TestBindTableReserve(t *testing.T) {
	bt := newBindTable()
	k := bindKey{tcp.ProtocolNumber, 80}
	a := &bindEntry{v4: true}
	if err := bt.reserve(k, a, nil); err != nil {
		t.Fatal(err)
	}
	b := &bindEntry{v4: true}
	if err := bt.reserve(k, b, nil); err != wsa.WSAEADDRINUSE {
		t.Fatalf("second default wildcard: %v", err)
	}
	committed := false
	if err := bt.reserve(k, b, func() error { committed = true; return wsa.WSAENOBUFS }); err != wsa.WSAEADDRINUSE || committed {
		t.Fatalf("commit ran for a refused bind (%v)", err)
	}
	bt.release(k, a)
	if err := bt.reserve(k, b, func() error { return wsa.WSAENOBUFS }); err != wsa.WSAENOBUFS {
		t.Fatalf("commit error not returned: %v", err)
	}
	if len(bt.m[k]) != 0 {
		t.Fatal("failed commit left a reservation")
	}

	// Ephemeral ports skip ports held in the table and ports the commit
	// refuses as in use.
	held := &bindEntry{v4: true, opt: optReuse}
	if err := bt.reserve(bindKey{tcp.ProtocolNumber, 1000}, held, nil); err != nil {
		t.Fatal(err)
	}
	seen := map[uint16]bool{}
	for i := 0; i < 3; i++ {
		p, err := bt.reserveEphemeral(tcp.ProtocolNumber, 1000, 1004, &bindEntry{v4: true}, func(port uint16) error {
			if port == 1002 {
				return wsa.WSAEADDRINUSE
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if p == 1000 || p == 1002 || seen[p] {
			t.Fatalf("ephemeral port %d (seen %v)", p, seen)
		}
		seen[p] = true
	}
	if _, err := bt.reserveEphemeral(tcp.ProtocolNumber, 1000, 1004, &bindEntry{v4: true}, func(port uint16) error {
		if port == 1002 {
			return wsa.WSAEADDRINUSE
		}
		return nil
	}); err != wsa.WSAENOBUFS {
		t.Fatalf("exhausted range: %v", err)
	}
}
