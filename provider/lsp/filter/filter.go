package filter

import (
	"sync/atomic"
	"time"

	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/wsa"
)

// Defaults of Config.
const (
	DefaultPath          = "ws2/lsp/filter"
	DefaultName          = "ws2 filter"
	DefaultRejectTimeout = 5 * time.Second
)

// The default layer and chain GUIDs.
var (
	LayerGUID = wsa.MustParseGUID("{F117E400-6A0B-4D3C-8E21-5C9D0B1A0001}")
	ChainGUID = wsa.MustParseGUID("{F117E400-6A0B-4D3C-8E21-5C9D0B1A0002}")
)

// Config configures a Filter.
type Config struct {
	// RulesFile, if set, is read by New and by every Reload.
	RulesFile string
	// Rules are the rules when RulesFile is empty.
	Rules Rules
	// RejectTimeout bounds how long a denied AcceptEx connection may take
	// to close before the AcceptEx fails instead of being re-issued
	// (DefaultRejectTimeout if 0; see the package doc).
	RejectTimeout time.Duration
	// LayerGUID and ChainGUID are the provider ids of the layer entry and
	// of the chain entries (zero: the package's LayerGUID and ChainGUID).
	LayerGUID, ChainGUID wsa.GUID
	// Path is the provider path in the catalog's registry (DefaultPath if
	// empty); Name the protocol name of the layer entry (DefaultName).
	Path, Name string
}

// Stats counts what a Filter denied.
type Stats struct {
	DeniedOut uint64 // connects and datagrams refused with WSAEACCES
	DeniedIn  uint64 // connections refused and datagrams dropped
}

// Filter is the filter layer of one catalog.
type Filter struct {
	cfg   Config
	cat   *provider.Catalog
	layer provider.Layer
	rules atomic.Pointer[compiled]

	deniedOut, deniedIn atomic.Uint64
}

// compiled is a rule set with what the hot paths need to know of it.
type compiled struct {
	rules Rules
	// denies[dir][proto]: some deny rule may apply (otherwise the checks
	// are skipped). dir 0 is Out, 1 In; proto as Protocol.
	denies [2][3]bool
	// inPorts: some rule for inbound traffic restricts ports (the local
	// port is then looked up).
	inPorts bool
}

func compile(rs Rules) *compiled {
	c := &compiled{rules: rs}
	for _, r := range rs {
		if r.Direction&In != 0 && r.Ports != AnyPort {
			c.inPorts = true
		}
		if r.Action != Deny {
			continue
		}
		for d, dir := range []Direction{Out, In} {
			if r.Direction&dir == 0 {
				continue
			}
			for p := AnyProtocol; p <= UDP; p++ {
				if r.Protocol == AnyProtocol || r.Protocol == p {
					c.denies[d][p] = true
				}
			}
		}
	}
	return c
}

// New returns the filter layer for cat (not registered, not installed),
// with its rules read from cfg.RulesFile, or cfg.Rules.
func New(cat *provider.Catalog, cfg Config) (*Filter, error) {
	if cfg.RejectTimeout <= 0 {
		cfg.RejectTimeout = DefaultRejectTimeout
	}
	if cfg.LayerGUID == (wsa.GUID{}) {
		cfg.LayerGUID = LayerGUID
	}
	if cfg.ChainGUID == (wsa.GUID{}) {
		cfg.ChainGUID = ChainGUID
	}
	if cfg.Path == "" {
		cfg.Path = DefaultPath
	}
	if cfg.Name == "" {
		cfg.Name = DefaultName
	}
	f := &Filter{cfg: cfg, cat: cat}
	f.rules.Store(compile(cfg.Rules))
	if cfg.RulesFile != "" {
		if err := f.Reload(); err != nil {
			return nil, err
		}
	}
	f.layer = provider.Layer{
		Catalog:              cat,
		ID:                   cfg.LayerGUID,
		Description:          "ws2 filter layered provider",
		InterceptCompletions: true,
		New:                  func(pt *provider.PassThrough) provider.ProcTable { return &table{PassThrough: pt, f: f} },
	}
	return f, nil
}

// Reload reads Config.RulesFile again and, if it parses, makes its rules
// the ones in force for every socket from the next call on. A file that
// does not parse leaves the rules as they were and returns the error.
// Without a RulesFile it does nothing.
func (f *Filter) Reload() error {
	if f.cfg.RulesFile == "" {
		return nil
	}
	rs, err := ParseFile(f.cfg.RulesFile)
	if err != nil {
		return err
	}
	f.rules.Store(compile(rs))
	return nil
}

// SetRules puts rs in force.
func (f *Filter) SetRules(rs Rules) { f.rules.Store(compile(append(Rules(nil), rs...))) }

// Rules returns the rules in force.
func (f *Filter) Rules() Rules { return append(Rules(nil), f.rules.Load().rules...) }

// Stats returns the counts of denied traffic.
func (f *Filter) Stats() Stats {
	return Stats{DeniedOut: f.deniedOut.Load(), DeniedIn: f.deniedIn.Load()}
}

// Config returns the configuration, defaults filled in.
func (f *Filter) Config() Config { return f.cfg }

// Layer returns the provider.Layer; its Startup is the layer's WSPStartup.
func (f *Filter) Layer() *provider.Layer { return &f.layer }

// Register registers the layer's WSPStartup under Config.Path in the
// catalog's registry (WSAEINVAL if the path is taken).
func (f *Filter) Register() error {
	if f.cat == nil {
		return wsa.WSAEINVAL
	}
	return f.cat.Registry().Register(f.cfg.Path, f.layer.Startup)
}

// Install registers the layer and installs it over the catalog entries
// over (provider.InstallLayer). On failure nothing stays registered or
// installed.
func (f *Filter) Install(over []uint32) error {
	if err := f.Register(); err != nil {
		return err
	}
	if err := provider.InstallLayer(f.cat, f.cfg.LayerGUID, f.cfg.ChainGUID, f.cfg.Path, f.cfg.Name, over); err != nil {
		f.cat.Registry().Unregister(f.cfg.Path)
		return err
	}
	return nil
}

// Register is New followed by Filter.Register.
func Register(cat *provider.Catalog, cfg Config) (*Filter, error) {
	f, err := New(cat, cfg)
	if err != nil {
		return nil, err
	}
	if err := f.Register(); err != nil {
		return nil, err
	}
	return f, nil
}

// Install is New followed by Filter.Install.
func Install(cat *provider.Catalog, cfg Config, over []uint32) (*Filter, error) {
	f, err := New(cat, cfg)
	if err != nil {
		return nil, err
	}
	if err := f.Install(over); err != nil {
		return nil, err
	}
	return f, nil
}

// may reports whether some rule could deny traffic of dir and proto.
func (f *Filter) may(dir Direction, proto Protocol) bool {
	d := 0
	if dir == In {
		d = 1
	}
	return f.rules.Load().denies[d][proto]
}

// allowed decides for remote address sa and port (see Rule), counting a
// denial. A nil address is allowed.
func (f *Filter) allowed(dir Direction, proto Protocol, sa wsa.Sockaddr, port uint16) bool {
	if sa == nil {
		return true
	}
	ap := sa.AddrPort()
	if dir == Out {
		port = ap.Port()
	}
	if f.rules.Load().rules.Decide(dir, proto, ap.Addr(), port) == Allow {
		return true
	}
	if dir == Out {
		f.deniedOut.Add(1)
	} else {
		f.deniedIn.Add(1)
	}
	return false
}

// protoOf is the rule protocol of a socket's catalog entry.
func protoOf(p *wsa.ProtocolInfo) Protocol {
	switch p.SocketType {
	case wsa.SOCK_STREAM:
		return TCP
	case wsa.SOCK_DGRAM:
		return UDP
	}
	return AnyProtocol
}

// portOf is the port of sa, 0 for nil.
func portOf(sa wsa.Sockaddr) uint16 {
	if sa == nil {
		return 0
	}
	return sa.AddrPort().Port()
}
