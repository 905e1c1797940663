package shaper

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/wsa"
)

// Defaults of Config.
const (
	DefaultPath = "ws2/lsp/shaper"
	DefaultName = "ws2 shaper"
	// MinBurst is the smallest bucket a rate gets when its burst is not
	// given: a limit below one segment per burst would stall.
	MinBurst = 64 << 10
)

// The default layer and chain GUIDs.
var (
	LayerGUID = wsa.MustParseGUID("{5AA9E700-2C4F-4E81-B3D6-0F8A61C20001}")
	ChainGUID = wsa.MustParseGUID("{5AA9E700-2C4F-4E81-B3D6-0F8A61C20002}")
)

// Limits are what the shaper does to the traffic of its sockets. The zero
// value does nothing (the layer then only forwards).
type Limits struct {
	// SocketRate is the most bytes per second one socket sends (0: no
	// limit), SocketBurst the depth of its bucket in bytes (0:
	// max(SocketRate/10, MinBurst)).
	SocketRate  float64
	SocketBurst int
	// EntryRate is the most bytes per second all the sockets of one chain
	// entry send together (0: no limit), EntryBurst its bucket (0:
	// max(EntryRate/10, MinBurst)). The bucket is shared by every Session
	// over the catalog.
	EntryRate  float64
	EntryBurst int
	// Delay is added to every send: it is handed to the next provider
	// Delay after the application issued it.
	Delay time.Duration
	// Loss is the probability (0 to 1) that a datagram of a datagram socket
	// is dropped: the send succeeds and nothing is sent. Stream sockets
	// lose nothing (see the package doc).
	Loss float64
	// Seed seeds the loss decisions: the same seed and the same sequence of
	// sends drop the same datagrams.
	Seed uint64
}

func burst(r float64, b int) int {
	if b > 0 {
		return b
	}
	return max(int(r/10), MinBurst)
}

// Config configures a Shaper.
type Config struct {
	Limits
	// LayerGUID and ChainGUID are the provider ids of the layer entry and
	// of the chain entries (zero: the package's LayerGUID and ChainGUID).
	LayerGUID, ChainGUID wsa.GUID
	// Path is the provider path in the catalog's registry (DefaultPath if
	// empty); Name the protocol name of the layer entry (DefaultName).
	Path, Name string
}

// Shaper is the shaper layer of one catalog.
type Shaper struct {
	cfg   Config
	cat   *provider.Catalog
	layer provider.Layer
	state atomic.Pointer[state]
}

// state is one generation of limits, with the per-entry buckets and the
// loss generator made for it.
type state struct {
	lim     Limits
	entries sync.Map // chain entry id → *rate.Limiter

	rmu sync.Mutex
	rng *rand.Rand
}

func newState(l Limits) *state {
	return &state{lim: l, rng: rand.New(rand.NewPCG(l.Seed, l.Seed^0x9e3779b97f4a7c15))}
}

// entry returns the bucket of chain entry id, nil without an entry limit.
func (st *state) entry(id uint32) *rate.Limiter {
	if st.lim.EntryRate <= 0 {
		return nil
	}
	if v, ok := st.entries.Load(id); ok {
		return v.(*rate.Limiter)
	}
	v, _ := st.entries.LoadOrStore(id, rate.NewLimiter(rate.Limit(st.lim.EntryRate), burst(st.lim.EntryRate, st.lim.EntryBurst)))
	return v.(*rate.Limiter)
}

// lose decides whether to drop the next datagram.
func (st *state) lose() bool {
	if st.lim.Loss <= 0 {
		return false
	}
	st.rmu.Lock()
	defer st.rmu.Unlock()
	return st.rng.Float64() < st.lim.Loss
}

// New returns the shaper layer for cat (not registered, not installed).
func New(cat *provider.Catalog, cfg Config) *Shaper {
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
	s := &Shaper{cfg: cfg, cat: cat}
	s.state.Store(newState(cfg.Limits))
	s.layer = provider.Layer{
		Catalog:     cat,
		ID:          cfg.LayerGUID,
		Description: "ws2 shaper layered provider",
		New:         func(pt *provider.PassThrough) provider.ProcTable { return &table{PassThrough: pt, sh: s} },
	}
	return s
}

// SetLimits puts new limits in force: from the next send of every socket,
// with fresh buckets and the loss generator reseeded.
func (s *Shaper) SetLimits(l Limits) { s.state.Store(newState(l)) }

// Limits returns the limits in force.
func (s *Shaper) Limits() Limits { return s.state.Load().lim }

// Config returns the configuration, defaults filled in.
func (s *Shaper) Config() Config { return s.cfg }

// Layer returns the provider.Layer; its Startup is the layer's WSPStartup.
func (s *Shaper) Layer() *provider.Layer { return &s.layer }

// Register registers the layer's WSPStartup under Config.Path in the
// catalog's registry (WSAEINVAL if the path is taken).
func (s *Shaper) Register() error {
	if s.cat == nil {
		return wsa.WSAEINVAL
	}
	return s.cat.Registry().Register(s.cfg.Path, s.layer.Startup)
}

// Install registers the layer and installs it over the catalog entries
// over (provider.InstallLayer). On failure nothing stays registered or
// installed.
func (s *Shaper) Install(over []uint32) error {
	if err := s.Register(); err != nil {
		return err
	}
	if err := provider.InstallLayer(s.cat, s.cfg.LayerGUID, s.cfg.ChainGUID, s.cfg.Path, s.cfg.Name, over); err != nil {
		s.cat.Registry().Unregister(s.cfg.Path)
		return err
	}
	return nil
}

// Register is New followed by Shaper.Register.
func Register(cat *provider.Catalog, cfg Config) (*Shaper, error) {
	s := New(cat, cfg)
	if err := s.Register(); err != nil {
		return nil, err
	}
	return s, nil
}

// Install is New followed by Shaper.Install.
func Install(cat *provider.Catalog, cfg Config, over []uint32) (*Shaper, error) {
	s := New(cat, cfg)
	if err := s.Install(over); err != nil {
		return nil, err
	}
	return s, nil
}
