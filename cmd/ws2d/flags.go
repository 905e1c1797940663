package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
)

// Limits of the command line, as the TUN driver and the protocols set them.
const (
	minMTU     = 68    // ETH_MIN_MTU, the smallest MTU the TUN driver takes
	maxMTU     = 65535 // the largest
	defaultMTU = 1500
	maxIfName  = 15 // IFNAMSIZ - 1
	echoPort   = 7  // RFC 862
)

// config is a parsed, validated command line.
type config struct {
	tun         string
	addrs       []netip.Prefix // the userspace host's addresses
	kernelAddrs []netip.Prefix // the kernel side's addresses
	mtu         int
	pcap        string
	echoPort    uint16
	catalog     string // catalog file; "" for the built-in catalog
	filterRules string // rules file of the filter layer (--filter-rules)
	tunOffload  bool   // open the TUN with the offload driver (--tun-offload)
}

// families reports whether the host has an IPv4 and an IPv6 address.
func (c *config) families() (v4, v6 bool) {
	for _, p := range c.addrs {
		if p.Addr().Is4() {
			v4 = true
		} else {
			v6 = true
		}
	}
	return v4, v6
}

// usageText is the help ws2d prints for --help and after a bad command line.
// TestUsageListsEveryFlag keeps it in step with the flags that parseFlags
// defines.
const usageText = `Usage: ws2d --tun NAME --addr CIDR [--addr CIDR]... [flags]
       ws2d catalog [--file PATH] show|install|remove|order|reset ...

ws2d brings a userspace Winsock host (a gVisor TCP/IP stack behind the
Winsock 2 API) up on a new Linux TUN device and serves echo (RFC 862) on TCP
and UDP, over IPv4 and IPv6 for each family that has an --addr. It needs
CAP_NET_ADMIN. SIGTERM or SIGINT stops it and removes the device.

Flags:
  --tun NAME          TUN interface to create (required; at most 15 bytes,
                      no '/', ':', '%' or white space)
  --addr CIDR         address of the userspace host with its prefix length,
                      IPv4 or IPv6 (required; repeat for more addresses)
  --kernel-addr CIDR  address given to the kernel's side of the TUN, so that
                      programs on this machine can reach the host
                      (optional; repeatable)
  --mtu N             link MTU, 68..65535 (default 1500)
  --tun-offload       open the TUN with IFF_VNET_HDR and TSO/USO/checksum
                      offloads (wireguard-go's driver): the kernel sends
                      GSO super-packets of up to 64 KiB, and outgoing TCP
                      and UDP segments are coalesced into GRO super-packets,
                      so bulk transfers need far fewer system calls. If the
                      kernel refuses the offloads, ws2d logs why and uses
                      the plain driver
  --pcap FILE         write a pcap capture of the TUN link to FILE
  --echo-port N       TCP and UDP port of the echo service, 1..65535
                      (default 7)
  --catalog PATH      load the Winsock protocol catalog from the catalog
                      file PATH (creating it, and its directory, with the
                      default catalog if it does not exist) instead of the
                      built-in one, and follow the changes made to it
                      while running ("ws2d catalog" edits it). Layers
                      installed with the paths ws2/lsp/trace (records to
                      the log) and ws2/lsp/filter (see --filter-rules) run
                      in ws2d; other provider paths are reported
  --filter-rules FILE rules of the filter layer ("deny out tcp
                      198.18.0.0/15 80", one rule a line; see go doc
                      github.com/ws2go/ws2/provider/lsp/filter); without
                      it an installed filter layer allows everything
  --help              print this help and exit

"ws2d catalog --help" describes the catalog commands: show the catalog as
"netsh winsock show catalog" does, install and remove layered providers,
write the order, reset to the default catalog.

Example:
  ws2d --tun ws2 --addr 192.0.2.1/24 --addr 2001:db8::1/64 \
       --kernel-addr 192.0.2.2/24 --kernel-addr 2001:db8::2/64
  echo hello | socat -t 5 - TCP:192.0.2.1:7

Exit status: 0 after a clean stop or --help, 1 if the host cannot be brought
up, 2 for a bad command line.
`

// errHelp is returned by parseFlags for --help.
var errHelp = errors.New("help requested")

// usageError is a bad command line: parseFlags has already printed the
// problem and the usage to stderr.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// prefixList is a repeatable CIDR flag.
type prefixList []netip.Prefix

func (l *prefixList) String() string {
	if l == nil {
		return ""
	}
	s := make([]string, len(*l))
	for i, p := range *l {
		s[i] = p.String()
	}
	return strings.Join(s, ",")
}

func (l *prefixList) Set(v string) error {
	p, err := parseCIDR(v)
	if err != nil {
		return err
	}
	*l = append(*l, p)
	return nil
}

// parseCIDR parses an interface address with its prefix length
// ("192.0.2.1/24"): a unicast address (not unspecified, multicast or
// zoned); the host bits are kept.
func parseCIDR(v string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(v)
	if err != nil {
		if _, aerr := netip.ParseAddr(v); aerr == nil {
			return netip.Prefix{}, fmt.Errorf("%q has no prefix length (write it as ADDRESS/BITS, e.g. 192.0.2.1/24)", v)
		}
		return netip.Prefix{}, fmt.Errorf("%q is not an address with a prefix length (e.g. 192.0.2.1/24 or 2001:db8::1/64)", v)
	}
	a := p.Addr()
	switch {
	case a.Is4In6():
		return netip.Prefix{}, fmt.Errorf("%q: use the plain IPv4 form, not an IPv4-mapped IPv6 address", v)
	case a.IsUnspecified():
		return netip.Prefix{}, fmt.Errorf("%q: the unspecified address cannot be an interface address", v)
	case a.IsMulticast():
		return netip.Prefix{}, fmt.Errorf("%q: a multicast address cannot be an interface address", v)
	case a == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return netip.Prefix{}, fmt.Errorf("%q: the broadcast address cannot be an interface address", v)
	}
	return p, nil
}

// rangedInt is an integer flag that must lie within [min, max].
type rangedInt struct {
	v        *int
	min, max int
}

func (r rangedInt) String() string {
	if r.v == nil {
		return ""
	}
	return strconv.Itoa(*r.v)
}

func (r rangedInt) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil {
		return fmt.Errorf("%q is not a number", s)
	}
	if n < r.min || n > r.max {
		return fmt.Errorf("%d is outside %d..%d", n, r.min, r.max)
	}
	*r.v = n
	return nil
}

// validIfName checks an interface name as the kernel's dev_valid_name does
// (plus '%', which the TUN driver would take as a template).
func validIfName(name string) error {
	switch {
	case name == "":
		return errors.New("the name is empty")
	case len(name) > maxIfName:
		return fmt.Errorf("%q is longer than %d bytes", name, maxIfName)
	case name == "." || name == "..":
		return fmt.Errorf("%q is reserved", name)
	case strings.ContainsAny(name, "/:%\x00 \t\n\v\f\r"):
		return fmt.Errorf("%q contains '/', ':', '%%', NUL or white space", name)
	}
	return nil
}

// flagVars are the destinations of the flags.
type flagVars struct {
	cfg  config
	port int
	help bool
}

// newFlagSet defines ws2d's flags on a FlagSet that reports errors (and the
// usage after them) to stderr.
func newFlagSet(v *flagVars, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("ws2d", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { io.WriteString(fs.Output(), usageText) }
	fs.StringVar(&v.cfg.tun, "tun", "", "TUN interface to create")
	fs.Var((*prefixList)(&v.cfg.addrs), "addr", "address of the userspace host (CIDR, repeatable)")
	fs.Var((*prefixList)(&v.cfg.kernelAddrs), "kernel-addr", "address of the kernel side of the TUN (CIDR, repeatable)")
	fs.Var(rangedInt{&v.cfg.mtu, minMTU, maxMTU}, "mtu", "link MTU")
	fs.BoolVar(&v.cfg.tunOffload, "tun-offload", false, "open the TUN with the offload driver (GSO/GRO)")
	fs.StringVar(&v.cfg.pcap, "pcap", "", "pcap capture file")
	fs.Var(rangedInt{&v.port, 1, 65535}, "echo-port", "echo service port")
	fs.StringVar(&v.cfg.catalog, "catalog", "", "protocol catalog file")
	fs.StringVar(&v.cfg.filterRules, "filter-rules", "", "rules file of the filter layer")
	fs.BoolVar(&v.help, "help", false, "print the usage and exit")
	fs.BoolVar(&v.help, "h", false, "print the usage and exit")
	return fs
}

// parseFlags parses ws2d's arguments. For --help it prints the usage to
// stdout and returns errHelp; for a bad command line it prints the problem
// and the usage to stderr and returns a *usageError.
func parseFlags(args []string, stdout, stderr io.Writer) (*config, error) {
	v := &flagVars{cfg: config{mtu: defaultMTU}, port: echoPort}
	fs := newFlagSet(v, stderr)
	cfg := &v.cfg

	// On an error the flag package prints it and calls fs.Usage.
	if err := fs.Parse(args); err != nil {
		return nil, &usageError{err.Error()}
	}
	if v.help {
		io.WriteString(stdout, usageText)
		return nil, errHelp
	}
	fail := func(format string, a ...any) (*config, error) {
		msg := fmt.Sprintf(format, a...)
		fmt.Fprintf(stderr, "ws2d: %s\n\n%s", msg, usageText)
		return nil, &usageError{msg}
	}
	if fs.NArg() > 0 {
		return fail("unexpected argument %q", fs.Arg(0))
	}
	if cfg.tun == "" {
		return fail("--tun is required")
	}
	if err := validIfName(cfg.tun); err != nil {
		return fail("invalid value for --tun: %v", err)
	}
	if len(cfg.addrs) == 0 {
		return fail("at least one --addr is required")
	}
	seen := make(map[netip.Addr]string)
	for _, l := range []struct {
		flag  string
		addrs []netip.Prefix
	}{{"--addr", cfg.addrs}, {"--kernel-addr", cfg.kernelAddrs}} {
		for _, p := range l.addrs {
			if prev, ok := seen[p.Addr()]; ok {
				return fail("%s %v: address %v is already given by %s", l.flag, p, p.Addr(), prev)
			}
			seen[p.Addr()] = l.flag
		}
	}
	cfg.echoPort = uint16(v.port)
	return cfg, nil
}
