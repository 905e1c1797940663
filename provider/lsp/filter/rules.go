package filter

import (
	"bufio"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strconv"
	"strings"
)

// Action is what a rule does with the traffic it matches.
type Action uint8

// Actions.
const (
	Allow Action = iota
	Deny
)

// Direction is which way the traffic goes, seen from the socket.
type Direction uint8

// Directions. AnyDirection matches both.
const (
	Out          Direction = 1 << iota // connect, ConnectEx, sendto, WSASendTo, WSASendMsg
	In                                 // accepted connections, received datagrams
	AnyDirection = Out | In
)

// Protocol is the transport a rule applies to.
type Protocol uint8

// Protocols. A rule with AnyProtocol matches every socket, raw ones too; TCP
// matches stream sockets, UDP datagram sockets.
const (
	AnyProtocol Protocol = iota
	TCP
	UDP
)

// PortRange is an inclusive range of ports.
type PortRange struct{ Lo, Hi uint16 }

// AnyPort is every port.
var AnyPort = PortRange{0, 65535}

// Contains reports whether p is in the range.
func (r PortRange) Contains(p uint16) bool { return r.Lo <= p && p <= r.Hi }

// Rule is one line of a rules file.
type Rule struct {
	Action    Action
	Direction Direction
	Protocol  Protocol
	// Prefix is the remote address's prefix (the destination for Out, the
	// source for In); the zero Prefix matches every address of both
	// families. IPv4-mapped IPv6 addresses match as IPv4.
	Prefix netip.Prefix
	// Ports is the remote port for Out, the local port for In (the
	// service); AnyPort matches all.
	Ports PortRange
}

// Matches reports whether the rule applies to traffic of direction dir
// (Out or In) and protocol proto (TCP, UDP, or AnyProtocol for another
// socket type) with remote address addr and port (see Rule for which port).
func (r *Rule) Matches(dir Direction, proto Protocol, addr netip.Addr, port uint16) bool {
	if r.Direction&dir == 0 {
		return false
	}
	if r.Protocol != AnyProtocol && r.Protocol != proto {
		return false
	}
	if r.Prefix.IsValid() && !r.Prefix.Contains(addr.Unmap()) {
		return false
	}
	return r.Ports.Contains(port)
}

// String is the rule in the file syntax (Parse reads it back).
func (r Rule) String() string {
	var b strings.Builder
	if r.Action == Deny {
		b.WriteString("deny ")
	} else {
		b.WriteString("allow ")
	}
	switch r.Direction {
	case Out:
		b.WriteString("out ")
	case In:
		b.WriteString("in ")
	default:
		b.WriteString("any ")
	}
	switch r.Protocol {
	case TCP:
		b.WriteString("tcp ")
	case UDP:
		b.WriteString("udp ")
	default:
		b.WriteString("any ")
	}
	if r.Prefix.IsValid() {
		b.WriteString(r.Prefix.String())
	} else {
		b.WriteString("any")
	}
	switch {
	case r.Ports == AnyPort:
	case r.Ports.Lo == r.Ports.Hi:
		fmt.Fprintf(&b, " %d", r.Ports.Lo)
	default:
		fmt.Fprintf(&b, " %d-%d", r.Ports.Lo, r.Ports.Hi)
	}
	return b.String()
}

// Rules is a rule list: the first rule that matches decides; traffic no
// rule matches is allowed.
type Rules []Rule

// Decide returns the action for the traffic (see Rule.Matches).
func (rs Rules) Decide(dir Direction, proto Protocol, addr netip.Addr, port uint16) Action {
	for i := range rs {
		if rs[i].Matches(dir, proto, addr, port) {
			return rs[i].Action
		}
	}
	return Allow
}

// String is the list in the file syntax, one rule a line.
func (rs Rules) String() string {
	var b strings.Builder
	for _, r := range rs {
		b.WriteString(r.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// ParseError is a line Parse could not read.
type ParseError struct {
	File string // "" when not parsing a file
	Line int
	Text string
	Msg  string
}

func (e *ParseError) Error() string {
	where := "line " + strconv.Itoa(e.Line)
	if e.File != "" {
		where = e.File + ":" + strconv.Itoa(e.Line)
	}
	return fmt.Sprintf("filter: %s: %s: %q", where, e.Msg, e.Text)
}

// Parse reads a rules file. The grammar, one rule a line:
//
//	rule      = action direction protocol address [ports]
//	action    = "allow" | "deny"
//	direction = "out" | "in" | "any"
//	protocol  = "tcp" | "udp" | "any"
//	address   = prefix | address | "any"     (198.18.0.0/15, ::/0, 10.1.2.3, 2001:db8::1)
//	ports     = port | port "-" port | "any"  (0-65535; absent means any)
//
// Keywords are case-insensitive; fields are separated by spaces or tabs; a
// '#' starts a comment that runs to the end of the line; blank lines are
// ignored. The address is the remote end's: the destination of outbound
// traffic, the source of inbound. The port is the remote port for "out" and
// the local (service) port for "in". A prefix's host bits are ignored
// (10.1.2.3/8 is 10.0.0.0/8); an IPv4-mapped IPv6 prefix is read as the
// IPv4 prefix; ::/0 is every IPv6 address and 0.0.0.0/0 every IPv4 one,
// "any" both. For example:
//
//	deny  out tcp 198.18.0.0/15 80      # no HTTP to the benchmark net
//	allow in  udp ::/0 53-54
//	deny  in  any any                   # nothing else comes in
//
// The first rule that matches decides; what no rule matches is allowed.
func Parse(r io.Reader) (Rules, error) {
	var rs Rules
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		body := text
		if i := strings.IndexByte(body, '#'); i >= 0 {
			body = body[:i]
		}
		f := strings.Fields(body)
		if len(f) == 0 {
			continue
		}
		rule, msg := parseRule(f)
		if msg != "" {
			return nil, &ParseError{Line: line, Text: text, Msg: msg}
		}
		rs = append(rs, rule)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("filter: reading rules: %w", err)
	}
	return rs, nil
}

// ParseString is Parse of a string.
func ParseString(s string) (Rules, error) { return Parse(strings.NewReader(s)) }

// ParseFile is Parse of the file at path.
func ParseFile(path string) (Rules, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("filter: %w", err)
	}
	defer f.Close()
	rs, err := Parse(f)
	if pe, ok := err.(*ParseError); ok {
		pe.File = path
	}
	return rs, err
}

func parseRule(f []string) (Rule, string) {
	if len(f) < 4 || len(f) > 5 {
		return Rule{}, "want: action direction protocol address [ports]"
	}
	var r Rule
	switch strings.ToLower(f[0]) {
	case "allow":
		r.Action = Allow
	case "deny":
		r.Action = Deny
	default:
		return Rule{}, "action is not allow or deny"
	}
	switch strings.ToLower(f[1]) {
	case "out":
		r.Direction = Out
	case "in":
		r.Direction = In
	case "any":
		r.Direction = AnyDirection
	default:
		return Rule{}, "direction is not out, in or any"
	}
	switch strings.ToLower(f[2]) {
	case "tcp":
		r.Protocol = TCP
	case "udp":
		r.Protocol = UDP
	case "any":
		r.Protocol = AnyProtocol
	default:
		return Rule{}, "protocol is not tcp, udp or any"
	}
	p, ok := parseAddress(f[3])
	if !ok {
		return Rule{}, "bad address or prefix"
	}
	r.Prefix = p
	r.Ports = AnyPort
	if len(f) == 5 {
		if r.Ports, ok = parsePorts(f[4]); !ok {
			return Rule{}, "bad port or port range"
		}
	}
	return r, ""
}

func parseAddress(s string) (netip.Prefix, bool) {
	if strings.EqualFold(s, "any") {
		return netip.Prefix{}, true
	}
	var p netip.Prefix
	if strings.Contains(s, "/") {
		var err error
		if p, err = netip.ParsePrefix(s); err != nil {
			return netip.Prefix{}, false
		}
	} else {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return netip.Prefix{}, false
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	if a := p.Addr(); a.Is4In6() {
		if p.Bits() < 96 {
			return netip.Prefix{}, false // straddles the mapped range
		}
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p.Masked(), true
}

func parsePorts(s string) (PortRange, bool) {
	if strings.EqualFold(s, "any") {
		return AnyPort, true
	}
	lo, hi, rng := strings.Cut(s, "-")
	a, ok := parsePort(lo)
	if !ok {
		return PortRange{}, false
	}
	b := a
	if rng {
		if b, ok = parsePort(hi); !ok || b < a {
			return PortRange{}, false
		}
	}
	return PortRange{a, b}, true
}

func parsePort(s string) (uint16, bool) {
	if s == "" || len(s) > 5 {
		return 0, false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	v, err := strconv.ParseUint(s, 10, 16)
	if err != nil {
		return 0, false
	}
	return uint16(v), true
}
