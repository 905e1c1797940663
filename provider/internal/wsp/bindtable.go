package wsp

import (
	"math/rand/v2"
	"net/netip"
	"sync"

	"github.com/ws2go/ws2/wsa"
)

// BindOpt is the address-sharing option a socket was bound with.
type BindOpt uint8

const (
	BindDefault   BindOpt = iota // neither option
	BindReuse                    // SO_REUSEADDR
	BindExclusive                // SO_EXCLUSIVEADDRUSE
)

// bindResult is one cell of the Windows table.
type bindResult uint8

const (
	bindOK     bindResult = iota
	bindInUse             // WSAEADDRINUSE
	bindAccess            // WSAEACCES
)

// bindTableCells is the same-user table of MicrosoftDocs/win32
// using-so-reuseaddr-and-so-exclusiveaddruse.md (spec §5.7), Windows Server
// 2003 and later: the result of a second bind to the same port, indexed by
// [first][second] with index opt*2 + (0 wildcard, 1 specific address). Both
// binds are to the same specific address when both are specific (different
// specific addresses never conflict and never get here).
var bindTableCells = [6][6]bindResult{
	//              Def W       Def S       Reuse W     Reuse S     Excl W      Excl S
	/* Def W   */ {bindInUse, bindOK, bindAccess, bindOK, bindInUse, bindOK},
	/* Def S   */ {bindOK, bindInUse, bindOK, bindAccess, bindInUse, bindInUse},
	/* Reuse W */ {bindInUse, bindOK, bindOK, bindOK, bindInUse, bindOK},
	/* Reuse S */ {bindOK, bindInUse, bindOK, bindOK, bindInUse, bindInUse},
	/* Excl W  */ {bindInUse, bindAccess, bindAccess, bindAccess, bindInUse, bindAccess},
	/* Excl S  */ {bindOK, bindInUse, bindOK, bindAccess, bindInUse, bindInUse},
}

// cell returns the table's answer for a second bind (opt2, wildcard2) after
// a first (opt1, wildcard1).
func cell(opt1 BindOpt, wild1 bool, opt2 BindOpt, wild2 bool) bindResult {
	i := int(opt1) * 2
	if !wild1 {
		i++
	}
	j := int(opt2) * 2
	if !wild2 {
		j++
	}
	return bindTableCells[i][j]
}

// BindKey names a port of a transport protocol (the provider's own
// protocol number: gVisor's, or IPPROTO_TCP/IPPROTO_UDP).
type BindKey struct {
	Proto uint32
	Port  uint16
}

// BindEntry is one socket's reservation of a port. It covers one or both
// address families, each with an address (the zero netip.Addr being the
// wildcard): an AF_INET socket covers IPv4; an AF_INET6 socket covers IPv6,
// or IPv4 alone when bound to a v4-mapped address, or both when it is
// dual-stack (IPV6_V6ONLY off) and bound to the wildcard. Owner is the
// provider's, for the commit functions of Reserve.
type BindEntry struct {
	Opt    BindOpt
	V4, V6 bool       // families covered
	A4, A6 netip.Addr // address in each family; zero = wildcard
	Owner  any
}

// overlap evaluates e after old in each family both cover: nil when they do
// not overlap (different families or different specific addresses), else
// the table's answer.
func overlap(old, e *BindEntry) (overlaps bool, res bindResult) {
	check := func(a1, a2 netip.Addr) {
		if res != bindOK {
			return
		}
		if a1.IsValid() && a2.IsValid() && a1 != a2 {
			return // different specific addresses never conflict
		}
		overlaps = true
		res = cell(old.Opt, !a1.IsValid(), e.Opt, !a2.IsValid())
	}
	if old.V4 && e.V4 {
		check(old.A4, e.A4)
	}
	if old.V6 && e.V6 {
		check(old.A6, e.A6)
	}
	return overlaps, res
}

// Conflict returns the Winsock error for binding e after old (same port),
// or nil.
func Conflict(old, e *BindEntry) error {
	switch _, res := overlap(old, e); res {
	case bindInUse:
		return wsa.WSAEADDRINUSE
	case bindAccess:
		return wsa.WSAEACCES
	}
	return nil
}

// BindTable is a provider's binding table: every port a socket of the
// provider holds, with the address and sharing option it was bound with. It
// decides every bind by the Windows rules (spec §5.7) before the transport
// sees it, and hands out ephemeral ports among the ports no socket of the
// protocol holds.
//
// A BindTable is safe for concurrent use.
type BindTable struct {
	mu sync.Mutex
	m  map[BindKey][]*BindEntry
}

// NewBindTable returns an empty table.
func NewBindTable() *BindTable { return &BindTable{m: make(map[BindKey][]*BindEntry)} }

// Reserve checks e against the port's holders and, if the Windows table
// allows it, runs commit (the transport's bind) with the table locked and
// records e; if commit fails nothing is recorded and its error is returned.
// commit gets the holders e overlaps (same family and address, or a
// wildcard) that the table allowed e to share the port with: a transport
// with rules of its own (the host kernel's) must let them share. commit may
// be nil.
func (t *BindTable) Reserve(k BindKey, e *BindEntry, commit func(shared []*BindEntry) error) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	var shared []*BindEntry
	for _, old := range t.m[k] {
		overlaps, res := overlap(old, e)
		switch res {
		case bindInUse:
			return wsa.WSAEADDRINUSE
		case bindAccess:
			return wsa.WSAEACCES
		}
		if overlaps {
			shared = append(shared, old)
		}
	}
	if commit != nil {
		if err := commit(shared); err != nil {
			return err
		}
	}
	t.m[k] = append(t.m[k], e)
	return nil
}

// ReserveEphemeral picks a port in [lo, hi] that no socket of proto holds,
// starting at a random point, runs commit(port) (the transport's bind) and
// records e under it. A port commit refuses with WSAEADDRINUSE (held outside
// the provider) is skipped; any other error ends the search. With every port
// taken the result is WSAENOBUFS, as Windows reports ephemeral port
// exhaustion.
func (t *BindTable) ReserveEphemeral(proto uint32, lo, hi uint16, e *BindEntry, commit func(port uint16) error) (uint16, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if hi < lo {
		lo, hi = hi, lo
	}
	n := uint32(hi) - uint32(lo) + 1
	start := rand.Uint32N(n)
	for i := uint32(0); i < n; i++ {
		port := uint16(uint32(lo) + (start+i)%n)
		k := BindKey{proto, port}
		if len(t.m[k]) != 0 {
			continue
		}
		if err := commit(port); err != nil {
			if err == wsa.WSAEADDRINUSE {
				continue
			}
			return 0, err
		}
		t.m[k] = append(t.m[k], e)
		return port, nil
	}
	return 0, wsa.WSAENOBUFS
}

// Release removes e from port k.
func (t *BindTable) Release(k BindKey, e *BindEntry) {
	t.mu.Lock()
	defer t.mu.Unlock()
	list := t.m[k]
	for i, x := range list {
		if x == e {
			list = append(list[:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(t.m, k)
	} else {
		t.m[k] = list
	}
}

// The dynamic port range of Windows Vista and later, from which ephemeral
// ports are handed out.
const (
	EphemeralFirst = 49152
	EphemeralLast  = 65535
)
