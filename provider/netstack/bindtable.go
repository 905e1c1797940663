package netstack

import (
	"math/rand/v2"
	"net/netip"
	"sync"

	"gvisor.dev/gvisor/pkg/tcpip"

	"github.com/ws2go/ws2/wsa"
)

// bindOpt is the address-sharing option a socket was bound with.
type bindOpt uint8

const (
	optDefault   bindOpt = iota // neither option
	optReuse                    // SO_REUSEADDR
	optExclusive                // SO_EXCLUSIVEADDRUSE
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
func cell(opt1 bindOpt, wild1 bool, opt2 bindOpt, wild2 bool) bindResult {
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

// bindKey names a port of a transport protocol on one stack.
type bindKey struct {
	proto tcpip.TransportProtocolNumber
	port  uint16
}

// bindEntry is one socket's reservation of a port. It covers one or both
// address families, each with an address (the zero netip.Addr being the
// wildcard): an AF_INET socket covers IPv4; an AF_INET6 socket covers IPv6,
// or IPv4 alone when bound to a v4-mapped address, or both when it is
// dual-stack (IPV6_V6ONLY off) and bound to the wildcard.
type bindEntry struct {
	opt    bindOpt
	v4, v6 bool       // families covered
	a4, a6 netip.Addr // address in each family; zero = wildcard
}

// conflict returns the Winsock error for binding e after old, or nil.
func conflict(old, e *bindEntry) error {
	res := bindOK
	check := func(a1, a2 netip.Addr) {
		if res != bindOK {
			return
		}
		if a1.IsValid() && a2.IsValid() && a1 != a2 {
			return // different specific addresses never conflict
		}
		res = cell(old.opt, !a1.IsValid(), e.opt, !a2.IsValid())
	}
	if old.v4 && e.v4 {
		check(old.a4, e.a4)
	}
	if old.v6 && e.v6 {
		check(old.a6, e.a6)
	}
	switch res {
	case bindInUse:
		return wsa.WSAEADDRINUSE
	case bindAccess:
		return wsa.WSAEACCES
	}
	return nil
}

// bindTable is the provider's binding table for one stack: every port a
// socket of the provider holds, with the address and sharing option it was
// bound with. It decides every bind by the Windows rules (spec §5.7) before
// gVisor sees it; gVisor's own reuse flags are set so that gVisor accepts
// whatever the table allowed (see socket.bind), and load-balances only
// between sockets that both asked for SO_REUSEADDR on the same address.
//
// Ephemeral ports (bind to port 0, the implicit bind of connect and sendto)
// are chosen here too, among ports no socket of the protocol holds.
//
// A bindTable is safe for concurrent use.
type bindTable struct {
	mu sync.Mutex
	m  map[bindKey][]*bindEntry
}

func newBindTable() *bindTable { return &bindTable{m: make(map[bindKey][]*bindEntry)} }

// reserve checks e against the port's holders and, if the Windows table
// allows it, records it and runs commit (the gVisor bind) with the table
// locked; if commit fails the reservation is undone and its error returned.
func (t *bindTable) reserve(k bindKey, e *bindEntry, commit func() error) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, old := range t.m[k] {
		if err := conflict(old, e); err != nil {
			return err
		}
	}
	if commit != nil {
		if err := commit(); err != nil {
			return err
		}
	}
	t.m[k] = append(t.m[k], e)
	return nil
}

// reserveEphemeral picks a port in [lo, hi] that no socket of proto holds,
// starting at a random point, records e under it and runs commit(port) (the
// gVisor bind). A port commit refuses with WSAEADDRINUSE (held outside the
// provider) is skipped; any other error ends the search. With every port
// taken the result is WSAENOBUFS, as Windows reports ephemeral port
// exhaustion.
func (t *bindTable) reserveEphemeral(proto tcpip.TransportProtocolNumber, lo, hi uint16, e *bindEntry, commit func(port uint16) error) (uint16, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if hi < lo {
		lo, hi = hi, lo
	}
	n := uint32(hi) - uint32(lo) + 1
	start := rand.Uint32N(n)
	for i := uint32(0); i < n; i++ {
		port := uint16(uint32(lo) + (start+i)%n)
		k := bindKey{proto, port}
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

// release removes e from port k.
func (t *bindTable) release(k bindKey, e *bindEntry) {
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
