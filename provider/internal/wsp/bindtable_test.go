package wsp

import (
	"net/netip"
	"testing"

	"github.com/ws2go/ws2/wsa"
)

var (
	specific = netip.MustParseAddr("192.0.2.1")
	other4   = netip.MustParseAddr("192.0.2.2")
	spec6    = netip.MustParseAddr("2001:db8::1")
)

const tcpProto = 6

func entry4(opt BindOpt, wild bool) *BindEntry {
	e := &BindEntry{Opt: opt, V4: true}
	if !wild {
		e.A4 = specific
	}
	return e
}

// TestBindTableCells checks all 36 cells of the same-user table of spec
// §5.7, row by row as the Microsoft page lists them.
func TestBindTableCells(t *testing.T) {
	type kind struct {
		opt  BindOpt
		wild bool
		name string
	}
	kinds := []kind{
		{BindDefault, true, "DefW"}, {BindDefault, false, "DefS"},
		{BindReuse, true, "ReuseW"}, {BindReuse, false, "ReuseS"},
		{BindExclusive, true, "ExclW"}, {BindExclusive, false, "ExclS"},
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
			err := Conflict(entry4(first.opt, first.wild), entry4(second.opt, second.wild))
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
	dual := &BindEntry{V4: true, V6: true}                      // dual-stack wildcard
	only6 := &BindEntry{V6: true}                               // IPV6_V6ONLY wildcard
	spec4 := &BindEntry{V4: true, A4: specific}                 // IPv4 specific
	mapped := &BindEntry{V4: true, A4: specific}                // v4-mapped bind of an AF_INET6 socket
	otherSpec := &BindEntry{V4: true, A4: other4}               // another specific address
	spec6e := &BindEntry{V6: true, A6: spec6}                   // IPv6 specific
	wild4 := &BindEntry{V4: true}                               // IPv4 wildcard
	reuse4 := &BindEntry{Opt: BindReuse, V4: true}              // IPv4 wildcard, SO_REUSEADDR
	excl6 := &BindEntry{Opt: BindExclusive, V6: true, V4: true} // dual-stack exclusive wildcard
	for _, c := range []struct {
		name       string
		first, sec *BindEntry
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
		if got := Conflict(c.first, c.sec); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

func TestBindTableReserve(t *testing.T) {
	bt := NewBindTable()
	k := BindKey{tcpProto, 80}
	a := &BindEntry{V4: true}
	if err := bt.Reserve(k, a, nil); err != nil {
		t.Fatal(err)
	}
	b := &BindEntry{V4: true}
	if err := bt.Reserve(k, b, nil); err != wsa.WSAEADDRINUSE {
		t.Fatalf("second default wildcard: %v", err)
	}
	committed := false
	if err := bt.Reserve(k, b, func([]*BindEntry) error { committed = true; return wsa.WSAENOBUFS }); err != wsa.WSAEADDRINUSE || committed {
		t.Fatalf("commit ran for a refused bind (%v)", err)
	}
	bt.Release(k, a)
	if err := bt.Reserve(k, b, func([]*BindEntry) error { return wsa.WSAENOBUFS }); err != wsa.WSAENOBUFS {
		t.Fatalf("commit error not returned: %v", err)
	}
	if len(bt.m[k]) != 0 {
		t.Fatal("failed commit left a reservation")
	}

	// Ephemeral ports skip ports held in the table and ports the commit
	// refuses as in use.
	held := &BindEntry{V4: true, Opt: BindReuse}
	if err := bt.Reserve(BindKey{tcpProto, 1000}, held, nil); err != nil {
		t.Fatal(err)
	}
	seen := map[uint16]bool{}
	for i := 0; i < 3; i++ {
		p, err := bt.ReserveEphemeral(tcpProto, 1000, 1004, &BindEntry{V4: true}, func(port uint16) error {
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
	if _, err := bt.ReserveEphemeral(tcpProto, 1000, 1004, &BindEntry{V4: true}, func(port uint16) error {
		if port == 1002 {
			return wsa.WSAEADDRINUSE
		}
		return nil
	}); err != wsa.WSAENOBUFS {
		t.Fatalf("exhausted range: %v", err)
	}
}

// TestBindTableShared: Reserve tells commit which holders the new entry
// overlaps and was allowed to share the port with.
func TestBindTableShared(t *testing.T) {
	bt := NewBindTable()
	k := BindKey{tcpProto, 80}
	wild := &BindEntry{V4: true, Owner: "wild"}
	other := &BindEntry{V4: true, A4: other4, Owner: "other"}
	for _, e := range []*BindEntry{wild, other} {
		if err := bt.Reserve(k, e, func(shared []*BindEntry) error {
			if e == other && (len(shared) != 1 || shared[0] != wild) {
				t.Fatalf("specific after wildcard shares %v", shared)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	var got []*BindEntry
	if err := bt.Reserve(k, &BindEntry{V4: true, A4: specific}, func(shared []*BindEntry) error {
		got = shared
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != wild {
		t.Fatalf("shared holders %v, want only the wildcard one", got)
	}
}
