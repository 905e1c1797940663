package main

import (
	"crypto/sha1"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/provider/catalogfile"
	"github.com/ws2go/ws2/provider/netstack"
	"github.com/ws2go/ws2/wsa"
)

// Where the catalog file is when --file is not given.
const (
	catalogEnv         = "WS2_CATALOG"
	defaultCatalogPath = "/var/lib/ws2/catalog.json"
)

// catalogUsage is the help of `ws2d catalog`. TestCatalogUsageListsEveryFlag
// keeps it in step with the flags.
const catalogUsage = `Usage: ws2d catalog [--file PATH] COMMAND [ARGS]

Manages the Winsock protocol catalog file: the analog of Windows'
Protocol_Catalog9 registry key and of "netsh winsock". A daemon started with
"ws2d --catalog PATH" loads the file and follows its changes at once.

The file is PATH from --file, else $WS2_CATALOG, else
/var/lib/ws2/catalog.json. The commands that change it create it (and its
directory) with the default catalog when it does not exist. Every change is
made under the file's lock on its current content and written atomically,
so concurrent commands and daemons never lose each other's changes.

Commands:
  show
      Print every entry in catalog order, as "netsh winsock show catalog"
      does: entry number and type, name, provider GUID and path, catalog id,
      address family, socket type, protocol, service and provider flags
      (decoded), and the protocol chain.
  install --layer NAME --path PATH --over ID[,ID...] [--guid G] [--chain-guid G]
      Install a layered provider the standard way: a hidden layer entry
      (ChainLen 0) named NAME under provider GUID G, then one chain entry over
      each entry ID (a base entry or a chain) named "NAME over [its name]",
      under the chain GUID, all with provider path PATH (the name the
      provider is registered under); the new chains go first in the order,
      so socket() picks them. G defaults to a GUID derived from NAME and the
      chain GUID to one derived from G (name-based UUIDs, version 5): the
      same command gives the same GUIDs.
  remove --guid G | --layer NAME
      Remove provider G (or the layer named NAME): every entry of G and,
      for a layered provider, every chain whose top is its layer entry,
      whatever the chain's GUID. Chains of other layers that still name a
      removed entry are reported: they can no longer be selected.
  order ID,ID,...
      Rewrite the order (WSCWriteProviderOrder): every catalog id exactly
      once, first the most preferred.
  reset [--force]
      Restore the default catalog, as ws2d installs it (the netstack
      provider's TCP, UDP and RAW entries, ids 1001-1006): the
      analog of "netsh winsock reset". A corrupt file is refused, as by
      every command; with --force it is first moved aside to
      PATH.bad-DATE-TIME.

Flags (before or after COMMAND):
  --file PATH   the catalog file
  --help        print this help and exit

Examples:
  ws2d catalog show
  ws2d catalog install --layer trace --path ws2/lsp/trace --over 1001,1003
  ws2d catalog order 1008,1009,1001,1002,1003,1004,1005,1006,1007
  ws2d catalog remove --layer trace
  ws2d catalog --file /tmp/catalog.json reset

Exit status: 0 on success, 1 when the command fails (an unknown catalog id
or GUID, a file that cannot be read or written, a corrupt file, which is
never changed), 2 for a bad command line.
`

// catalogCmd is a parsed `ws2d catalog` command line.
type catalogCmd struct {
	file      string
	cmd       string
	layer     string
	path      string
	over      []uint32
	guid      wsa.GUID
	hasGUID   bool
	chainGUID wsa.GUID
	hasChain  bool
	order     []uint32
	force     bool
}

// idList is a flag holding catalog ids separated by commas.
type idList []uint32

func (l *idList) String() string {
	if l == nil {
		return ""
	}
	s := make([]string, len(*l))
	for i, id := range *l {
		s[i] = strconv.FormatUint(uint64(id), 10)
	}
	return strings.Join(s, ",")
}

func (l *idList) Set(v string) error {
	ids, err := parseIDs(v)
	if err != nil {
		return err
	}
	*l = append(*l, ids...)
	return nil
}

func parseIDs(v string) ([]uint32, error) {
	var ids []uint32
	for f := range strings.SplitSeq(v, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		n, err := strconv.ParseUint(f, 10, 32)
		if err != nil || n == 0 {
			return nil, fmt.Errorf("%q is not a catalog id (a number such as 1001)", f)
		}
		ids = append(ids, uint32(n))
	}
	if len(ids) == 0 {
		return nil, errors.New("no catalog ids given")
	}
	return ids, nil
}

// guidFlag is a GUID flag.
type guidFlag struct {
	g   *wsa.GUID
	set *bool
}

func (f guidFlag) String() string {
	if f.g == nil {
		return ""
	}
	return f.g.String()
}

func (f guidFlag) Set(v string) error {
	g, err := wsa.ParseGUID(v)
	if err != nil {
		return fmt.Errorf("%q is not a GUID ({XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX})", v)
	}
	*f.g, *f.set = g, true
	return nil
}

// parseCatalogArgs parses the arguments after "catalog". For --help it
// prints the usage to stdout and returns errHelp; for a bad command line it
// prints the problem and the usage to stderr and returns a *usageError.
func parseCatalogArgs(args []string, stdout, stderr io.Writer) (*catalogCmd, error) {
	c := &catalogCmd{}
	fail := func(format string, a ...any) (*catalogCmd, error) {
		msg := fmt.Sprintf(format, a...)
		fmt.Fprintf(stderr, "ws2d catalog: %s\n\n%s", msg, catalogUsage)
		return nil, &usageError{msg}
	}
	newFS := func(name string) (*flag.FlagSet, *bool) {
		fs := flag.NewFlagSet(name, flag.ContinueOnError)
		fs.SetOutput(io.Discard) // errors are reported below, with the usage
		help := new(bool)
		fs.StringVar(&c.file, "file", c.file, "catalog file")
		fs.BoolVar(help, "help", false, "print the usage and exit")
		fs.BoolVar(help, "h", false, "print the usage and exit")
		return fs, help
	}
	top, help := newFS("ws2d catalog")
	if err := top.Parse(args); err != nil {
		return fail("%v", err)
	}
	if *help {
		io.WriteString(stdout, catalogUsage)
		return nil, errHelp
	}
	if top.NArg() == 0 {
		return fail("a command is required: show, install, remove, order or reset")
	}
	c.cmd = top.Arg(0)
	sub, help := newFS("ws2d catalog " + c.cmd)
	switch c.cmd {
	case "show":
	case "install":
		sub.StringVar(&c.layer, "layer", "", "layer name")
		sub.StringVar(&c.path, "path", "", "provider path")
		sub.Var((*idList)(&c.over), "over", "catalog ids to layer over")
		sub.Var(guidFlag{&c.guid, &c.hasGUID}, "guid", "layer GUID")
		sub.Var(guidFlag{&c.chainGUID, &c.hasChain}, "chain-guid", "chain GUID")
	case "remove":
		sub.Var(guidFlag{&c.guid, &c.hasGUID}, "guid", "provider GUID")
		sub.StringVar(&c.layer, "layer", "", "layer name")
	case "order":
	case "reset":
		sub.BoolVar(&c.force, "force", false, "move a corrupt file aside")
	default:
		return fail("unknown command %q (want show, install, remove, order or reset)", c.cmd)
	}
	if err := sub.Parse(top.Args()[1:]); err != nil {
		return fail("%s: %v", c.cmd, err)
	}
	if *help {
		io.WriteString(stdout, catalogUsage)
		return nil, errHelp
	}
	rest := sub.Args()
	switch c.cmd {
	case "install":
		switch {
		case c.layer == "":
			return fail("install: --layer NAME is required")
		case c.path == "":
			return fail("install: --path PATH is required")
		case len(c.over) == 0:
			return fail("install: --over ID[,ID...] is required")
		}
		if !c.hasGUID {
			c.guid = derivedGUID("layer:" + c.layer)
		}
		if !c.hasChain {
			c.chainGUID = derivedGUID("chains:" + c.guid.String())
		}
		if c.chainGUID == c.guid {
			return fail("install: --chain-guid must differ from --guid")
		}
	case "remove":
		if c.hasGUID == (c.layer != "") {
			return fail("remove: give either --guid G or --layer NAME")
		}
	case "order":
		if len(rest) == 0 {
			return fail("order: the catalog ids are required (ID,ID,...)")
		}
		ids, err := parseIDs(strings.Join(rest, ","))
		if err != nil {
			return fail("order: %v", err)
		}
		c.order, rest = ids, nil
	}
	if len(rest) > 0 {
		return fail("%s: unexpected argument %q", c.cmd, rest[0])
	}
	if c.file == "" {
		c.file = os.Getenv(catalogEnv)
	}
	if c.file == "" {
		c.file = defaultCatalogPath
	}
	return c, nil
}

// ws2dNamespace is the namespace of the name-based GUIDs ws2d derives.
var ws2dNamespace = wsa.MustParseGUID("{6A0F5D2E-1B7C-4E3A-9F48-2C5D7E9A1B30}")

// derivedGUID is the version-5 (SHA-1, name-based) UUID of name in
// ws2dNamespace, as a GUID (its string form is the UUID's).
func derivedGUID(name string) wsa.GUID {
	var ns [16]byte
	binary.BigEndian.PutUint32(ns[0:], ws2dNamespace.Data1)
	binary.BigEndian.PutUint16(ns[4:], ws2dNamespace.Data2)
	binary.BigEndian.PutUint16(ns[6:], ws2dNamespace.Data3)
	copy(ns[8:], ws2dNamespace.Data4[:])
	h := sha1.New()
	h.Write(ns[:])
	h.Write([]byte(name))
	u := h.Sum(nil)[:16]
	u[6] = u[6]&0x0f | 0x50
	u[8] = u[8]&0x3f | 0x80
	g := wsa.GUID{Data1: binary.BigEndian.Uint32(u[0:]), Data2: binary.BigEndian.Uint16(u[4:]), Data3: binary.BigEndian.Uint16(u[6:])}
	copy(g.Data4[:], u[8:])
	return g
}

// defaultCatalog installs the catalog ws2d installs without a catalog file
// (as ws2.New does): the netstack provider's entries under its path, as
// netstack.InstallProtocols lays them out (ids 1001-1006 for TCP/IP,
// UDP/IP, TCP/IPv6, UDP/IPv6, RAW/IP, RAW/IPv6).
func defaultCatalog(c *provider.Catalog) error {
	return netstack.InstallProtocols(c, netstack.DefaultPath)
}

// cmdError is a failure of a command, exit status 1.
type cmdError struct{ msg string }

func (e *cmdError) Error() string { return e.msg }

func failf(format string, a ...any) error { return &cmdError{fmt.Sprintf(format, a...)} }

// runCatalog is `ws2d catalog`: it returns the exit status.
func runCatalog(args []string, stdout, stderr io.Writer) int {
	c, err := parseCatalogArgs(args, stdout, stderr)
	switch {
	case errors.Is(err, errHelp):
		return exitOK
	case err != nil:
		return exitUsage
	}
	if err := c.run(stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "ws2d catalog: %s\n", describe(err, c.file))
		return exitError
	}
	return exitOK
}

// describe turns an error into the message for the user.
func describe(err error, path string) string {
	var ce *cmdError
	var fe *catalogfile.Error
	switch {
	case errors.As(err, &ce):
		return ce.msg
	case errors.As(err, &fe):
		msg := fe.Error() + "; the file was not changed"
		if errors.Is(err, catalogfile.ErrCorrupt) {
			msg += " (\"ws2d catalog reset --force\" moves it aside and restores the default catalog)"
		}
		return msg
	case errors.Is(err, fs.ErrPermission):
		return fmt.Sprintf("%v (the catalog file %s and its directory must be writable for changes, readable for show)", plain(err), path)
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Sprintf("%v (a command that changes the catalog, such as \"ws2d catalog reset\", creates the file)", plain(err))
	}
	return plain(err).Error()
}

// plain strips the StoreError wrapper (whose WSANO_RECOVERY is for programs).
func plain(err error) error {
	var se *catalogfile.StoreError
	if errors.As(err, &se) {
		return se.Err
	}
	return err
}

func (c *catalogCmd) run(stdout, stderr io.Writer) error {
	if c.cmd == "show" {
		s, err := catalogfile.Read(c.file)
		if err != nil {
			return err
		}
		showCatalog(stdout, c.file, s)
		return nil
	}
	if c.cmd == "reset" && c.force {
		if _, err := catalogfile.Read(c.file); err != nil && !errors.Is(err, fs.ErrNotExist) {
			var fe *catalogfile.Error
			if !errors.As(err, &fe) {
				return err
			}
			moved, err := catalogfile.Quarantine(c.file)
			if err != nil {
				return err
			}
			fmt.Fprintf(stderr, "ws2d catalog: moved the refused file (%v) to %s\n", fe.Err, moved)
		}
	}
	f, err := catalogfile.Open(c.file, nil, catalogfile.Options{Defaults: defaultCatalog, Create: true})
	if err != nil {
		return err
	}
	defer f.Close()
	switch c.cmd {
	case "install":
		return c.install(f, stdout)
	case "remove":
		return c.remove(f, stdout, stderr)
	case "order":
		if err := f.Update(func(t *provider.Catalog) error { return writeOrder(t, c.order) }); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "order written: %s (serial %d)\n", (*idList)(&c.order).String(), f.Serial())
	case "reset":
		if err := f.Reset(); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "default catalog restored: %d entries (serial %d)\n", len(f.Catalog().Entries()), f.Serial())
	}
	return nil
}

func (c *catalogCmd) install(f *catalogfile.File, stdout io.Writer) error {
	var layerID uint32
	var chains []provider.Entry
	err := f.Update(func(t *provider.Catalog) error {
		for i, id := range c.over {
			if slices.Contains(c.over[:i], id) {
				return failf("--over names catalog id %d twice", id)
			}
			e, ok := t.ByID(id)
			switch {
			case !ok:
				return failf("there is no catalog entry %d (see ws2d catalog show)", id)
			case e.Info.IsLayered():
				return failf("catalog entry %d (%s) is a layer entry: a layer goes over base entries and chains", id, e.Info.ProtocolName)
			case e.Info.IsChain() && e.Info.ProtocolChain.ChainLen+1 > wsa.MAX_PROTOCOL_CHAIN:
				return failf("catalog entry %d (%s) is a chain of %d entries: one more layer would exceed MAX_PROTOCOL_CHAIN (%d)",
					id, e.Info.ProtocolName, e.Info.ProtocolChain.ChainLen, wsa.MAX_PROTOCOL_CHAIN)
			}
		}
		for _, g := range []wsa.GUID{c.guid, c.chainGUID} {
			if _, err := t.WSCGetProviderPath(g); err == nil {
				return failf("provider %v is already installed (remove it first, or give another --guid)", g)
			}
		}
		if err := provider.InstallLayer(t, c.guid, c.chainGUID, c.path, c.layer, c.over); err != nil {
			return err
		}
		layerID, chains = 0, nil
		for _, e := range t.Entries() {
			switch e.Info.ProviderId {
			case c.guid:
				layerID = e.Info.CatalogEntryId
			case c.chainGUID:
				chains = append(chains, e)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "installed layer %q %v as catalog entry %d (path %s)\n", c.layer, c.guid, layerID, c.path)
	for _, e := range chains {
		fmt.Fprintf(stdout, "  chain %d: %s (chain %s) %v\n", e.Info.CatalogEntryId, e.Info.ProtocolName, chainString(&e.Info), c.chainGUID)
	}
	fmt.Fprintf(stdout, "the chains are first in the order (serial %d)\n", f.Serial())
	return nil
}

func (c *catalogCmd) remove(f *catalogfile.File, stdout, stderr io.Writer) error {
	var removed, dangling []provider.Entry
	err := f.Update(func(t *provider.Catalog) error {
		st := t.State()
		g := c.guid
		if c.layer != "" {
			var found []wsa.GUID
			for _, e := range st.Entries {
				if e.Info.IsLayered() && e.Info.ProtocolName == c.layer && !slices.Contains(found, e.Info.ProviderId) {
					found = append(found, e.Info.ProviderId)
				}
			}
			switch len(found) {
			case 0:
				return failf("there is no layer entry named %q (see ws2d catalog show)", c.layer)
			case 1:
				g = found[0]
			default:
				return failf("%d layered providers are named %q: give --guid", len(found), c.layer)
			}
		}
		var layers []uint32
		for _, e := range st.Entries {
			if e.Info.ProviderId == g && e.Info.IsLayered() {
				layers = append(layers, e.Info.CatalogEntryId)
			}
		}
		removed, dangling = nil, nil
		keep := st.Entries[:0:0]
		for _, e := range st.Entries {
			if e.Info.ProviderId == g || e.Info.IsChain() && slices.Contains(layers, e.Info.ProtocolChain.ChainEntries[0]) {
				removed = append(removed, e)
			} else {
				keep = append(keep, e)
			}
		}
		if len(removed) == 0 {
			return failf("there is no provider %v in the catalog", g)
		}
		for _, e := range keep {
			if !e.Info.IsChain() {
				continue
			}
			for _, id := range e.Info.ProtocolChain.ChainEntries[:e.Info.ProtocolChain.ChainLen] {
				if slices.ContainsFunc(removed, func(r provider.Entry) bool { return r.Info.CatalogEntryId == id }) {
					dangling = append(dangling, e)
					break
				}
			}
		}
		st.Entries = keep
		return t.SetState(st)
	})
	if err != nil {
		return err
	}
	for _, e := range removed {
		fmt.Fprintf(stdout, "removed catalog entry %d: %s %v\n", e.Info.CatalogEntryId, e.Info.ProtocolName, e.Info.ProviderId)
	}
	fmt.Fprintf(stdout, "serial %d\n", f.Serial())
	for _, e := range dangling {
		fmt.Fprintf(stderr, "ws2d catalog: warning: chain entry %d (%s) names a removed entry (chain %s): it can no longer be selected\n",
			e.Info.CatalogEntryId, e.Info.ProtocolName, chainString(&e.Info))
	}
	return nil
}

// writeOrder is WSCWriteProviderOrder with the reason of a refusal.
func writeOrder(t *provider.Catalog, ids []uint32) error {
	have := t.Entries()
	for i, id := range ids {
		if slices.Contains(ids[:i], id) {
			return failf("catalog id %d is given twice", id)
		}
		if !slices.ContainsFunc(have, func(e provider.Entry) bool { return e.Info.CatalogEntryId == id }) {
			return failf("there is no catalog entry %d (see ws2d catalog show)", id)
		}
	}
	var missing []string
	for _, e := range have {
		if !slices.Contains(ids, e.Info.CatalogEntryId) {
			missing = append(missing, strconv.FormatUint(uint64(e.Info.CatalogEntryId), 10))
		}
	}
	if len(missing) > 0 {
		return failf("the order must name every catalog entry exactly once; missing: %s", strings.Join(missing, ","))
	}
	return t.WSCWriteProviderOrder(ids)
}

// Flag names for show, in bit order.
var (
	xp1Names = []struct {
		bit  uint32
		name string
	}{
		{wsa.XP1_CONNECTIONLESS, "XP1_CONNECTIONLESS"},
		{wsa.XP1_GUARANTEED_DELIVERY, "XP1_GUARANTEED_DELIVERY"},
		{wsa.XP1_GUARANTEED_ORDER, "XP1_GUARANTEED_ORDER"},
		{wsa.XP1_MESSAGE_ORIENTED, "XP1_MESSAGE_ORIENTED"},
		{wsa.XP1_PSEUDO_STREAM, "XP1_PSEUDO_STREAM"},
		{wsa.XP1_GRACEFUL_CLOSE, "XP1_GRACEFUL_CLOSE"},
		{wsa.XP1_EXPEDITED_DATA, "XP1_EXPEDITED_DATA"},
		{wsa.XP1_CONNECT_DATA, "XP1_CONNECT_DATA"},
		{wsa.XP1_DISCONNECT_DATA, "XP1_DISCONNECT_DATA"},
		{wsa.XP1_SUPPORT_BROADCAST, "XP1_SUPPORT_BROADCAST"},
		{wsa.XP1_SUPPORT_MULTIPOINT, "XP1_SUPPORT_MULTIPOINT"},
		{wsa.XP1_MULTIPOINT_CONTROL_PLANE, "XP1_MULTIPOINT_CONTROL_PLANE"},
		{wsa.XP1_MULTIPOINT_DATA_PLANE, "XP1_MULTIPOINT_DATA_PLANE"},
		{wsa.XP1_QOS_SUPPORTED, "XP1_QOS_SUPPORTED"},
		{wsa.XP1_INTERRUPT, "XP1_INTERRUPT"},
		{wsa.XP1_UNI_SEND, "XP1_UNI_SEND"},
		{wsa.XP1_UNI_RECV, "XP1_UNI_RECV"},
		{wsa.XP1_IFS_HANDLES, "XP1_IFS_HANDLES"},
		{wsa.XP1_PARTIAL_MESSAGE, "XP1_PARTIAL_MESSAGE"},
		{wsa.XP1_SAN_SUPPORT_SDP, "XP1_SAN_SUPPORT_SDP"},
	}
	pflNames = []struct {
		bit  uint32
		name string
	}{
		{wsa.PFL_MULTIPLE_PROTO_ENTRIES, "PFL_MULTIPLE_PROTO_ENTRIES"},
		{wsa.PFL_RECOMMENDED_PROTO_ENTRY, "PFL_RECOMMENDED_PROTO_ENTRY"},
		{wsa.PFL_HIDDEN, "PFL_HIDDEN"},
		{wsa.PFL_MATCHES_PROTOCOL_ZERO, "PFL_MATCHES_PROTOCOL_ZERO"},
		{wsa.PFL_NETWORKDIRECT_PROVIDER, "PFL_NETWORKDIRECT_PROVIDER"},
	}
)

// decodeFlags formats v as netsh does (0x20066) followed by the names of
// its bits, and the bits that have none in hex.
func decodeFlags(v uint32, names []struct {
	bit  uint32
	name string
}) string {
	s := fmt.Sprintf("0x%x", v)
	if v == 0 {
		return s
	}
	var parts []string
	rest := v
	for _, n := range names {
		if v&n.bit != 0 {
			parts = append(parts, n.name)
			rest &^= n.bit
		}
	}
	if rest != 0 {
		parts = append(parts, fmt.Sprintf("0x%x", rest))
	}
	return s + " (" + strings.Join(parts, " | ") + ")"
}

func entryType(p *wsa.ProtocolInfo) string {
	switch {
	case p.IsLayered():
		return "Layered Service Provider"
	case p.IsBase():
		return "Base Service Provider"
	}
	return "Layered Chain Entry"
}

// chainString lists a chain's ids as netsh does: "1007 : 1001".
func chainString(p *wsa.ProtocolInfo) string {
	n := min(max(p.ProtocolChain.ChainLen, 0), wsa.MAX_PROTOCOL_CHAIN)
	s := make([]string, n)
	for i, id := range p.ProtocolChain.ChainEntries[:n] {
		s[i] = strconv.FormatUint(uint64(id), 10)
	}
	return strings.Join(s, " : ")
}

// showCatalog prints the catalog in the layout of `netsh winsock show
// catalog`, with the entry number, the flags decoded, and the chain's
// entries by name.
func showCatalog(w io.Writer, path string, s catalogfile.Snapshot) {
	byID := make(map[uint32]*provider.Entry, len(s.Entries))
	for i := range s.Entries {
		byID[s.Entries[i].Info.CatalogEntryId] = &s.Entries[i]
	}
	fmt.Fprintf(w, "\nWinsock catalog %s: %d entries, Serial_Access_Num %d, Next_Catalog_Entry_ID %d\n",
		path, len(s.Entries), s.Serial, s.NextID)
	line := func(label, format string, a ...any) {
		fmt.Fprintf(w, "%-36s%s\n", label+":", fmt.Sprintf(format, a...))
	}
	for i, e := range s.Entries {
		p := &e.Info
		fmt.Fprintf(w, "\nWinsock Catalog Provider Entry\n------------------------------------------------------\n")
		line("Entry Number", "%d", i+1)
		line("Entry Type", "%s", entryType(p))
		line("Description", "%s", p.ProtocolName)
		line("Provider ID", "%v", p.ProviderId)
		line("Provider Path", "%s", e.Path)
		line("Catalog Entry ID", "%d", p.CatalogEntryId)
		line("Version", "%d", p.Version)
		line("Address Family", "%d", p.AddressFamily)
		line("Max Address Length", "%d", p.MaxSockAddr)
		line("Min Address Length", "%d", p.MinSockAddr)
		line("Socket Type", "%d", p.SocketType)
		line("Protocol", "%d", p.Protocol)
		if p.ProtocolMaxOffset != 0 {
			line("Protocol Max Offset", "%d", p.ProtocolMaxOffset)
		}
		line("Service Flags", "%s", decodeFlags(p.ServiceFlags1, xp1Names))
		line("Provider Flags", "%s", decodeFlags(p.ProviderFlags, pflNames))
		line("Message Size", "%d", p.MessageSize)
		line("Protocol Chain Length", "%d", p.ProtocolChain.ChainLen)
		if p.IsChain() {
			line("Protocol Chain", "%s", chainString(p))
			n := min(p.ProtocolChain.ChainLen, wsa.MAX_PROTOCOL_CHAIN)
			for j, id := range p.ProtocolChain.ChainEntries[:n] {
				name := "(not installed)"
				if c, ok := byID[id]; ok {
					name = c.Info.ProtocolName
				}
				role := "layer"
				if j == int(n)-1 {
					role = "base"
				}
				fmt.Fprintf(w, "%-36s%d  %s: %s\n", "", id, role, name)
			}
		}
	}
	fmt.Fprintln(w)
}
