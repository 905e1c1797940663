package trace

import (
	"log/slog"

	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/wsa"
)

// Defaults of Config.
const (
	DefaultPath = "ws2/lsp/trace"
	DefaultName = "ws2 trace"
)

// The default layer and chain GUIDs.
var (
	LayerGUID = wsa.MustParseGUID("{7ACE0001-3B1D-4C6E-9A52-77E2A0C00001}")
	ChainGUID = wsa.MustParseGUID("{7ACE0001-3B1D-4C6E-9A52-77E2A0C00002}")
)

// Config configures a Tracer.
type Config struct {
	// Handler receives the records; nil discards them.
	Handler slog.Handler
	// Level is the level of the records (the zero value is slog.LevelInfo).
	Level slog.Level
	// LayerGUID and ChainGUID are the provider ids of the layer entry and of
	// the chain entries (zero: the package's LayerGUID and ChainGUID).
	LayerGUID, ChainGUID wsa.GUID
	// Path is the provider path in the catalog's registry (DefaultPath if
	// empty); Name the protocol name of the layer entry (DefaultName if
	// empty), which chain entries prefix to the names below them.
	Path, Name string
}

func (c *Config) defaults() {
	if c.Handler == nil {
		c.Handler = slog.DiscardHandler
	}
	if c.LayerGUID == (wsa.GUID{}) {
		c.LayerGUID = LayerGUID
	}
	if c.ChainGUID == (wsa.GUID{}) {
		c.ChainGUID = ChainGUID
	}
	if c.Path == "" {
		c.Path = DefaultPath
	}
	if c.Name == "" {
		c.Name = DefaultName
	}
}

// Tracer is the trace layer of one catalog.
type Tracer struct {
	cfg   Config
	cat   *provider.Catalog
	log   *slog.Logger
	layer provider.Layer
}

// New returns the trace layer for cat (not registered, not installed).
func New(cat *provider.Catalog, cfg Config) *Tracer {
	cfg.defaults()
	t := &Tracer{cfg: cfg, cat: cat, log: slog.New(cfg.Handler)}
	t.layer = provider.Layer{
		Catalog:     cat,
		ID:          cfg.LayerGUID,
		Description: "ws2 trace layered provider",
		New:         func(pt *provider.PassThrough) provider.ProcTable { return &table{PassThrough: pt, t: t} },
	}
	return t
}

// Config returns the configuration, defaults filled in.
func (t *Tracer) Config() Config { return t.cfg }

// Layer returns the provider.Layer; its Startup is the layer's WSPStartup.
func (t *Tracer) Layer() *provider.Layer { return &t.layer }

// Register registers the layer's WSPStartup under Config.Path in the
// catalog's registry (WSAEINVAL if the path is taken).
func (t *Tracer) Register() error {
	if t.cat == nil {
		return wsa.WSAEINVAL
	}
	return t.cat.Registry().Register(t.cfg.Path, t.layer.Startup)
}

// Install registers the layer and installs it over the catalog entries
// over (provider.InstallLayer: a hidden layer entry, chain entries first in
// the catalog). On failure nothing stays registered or installed.
func (t *Tracer) Install(over []uint32) error {
	if err := t.Register(); err != nil {
		return err
	}
	if err := provider.InstallLayer(t.cat, t.cfg.LayerGUID, t.cfg.ChainGUID, t.cfg.Path, t.cfg.Name, over); err != nil {
		t.cat.Registry().Unregister(t.cfg.Path)
		return err
	}
	return nil
}

// Register is New followed by Tracer.Register.
func Register(cat *provider.Catalog, cfg Config) (*Tracer, error) {
	t := New(cat, cfg)
	if err := t.Register(); err != nil {
		return nil, err
	}
	return t, nil
}

// Install is New followed by Tracer.Install.
func Install(cat *provider.Catalog, cfg Config, over []uint32) (*Tracer, error) {
	t := New(cat, cfg)
	if err := t.Install(over); err != nil {
		return nil, err
	}
	return t, nil
}
