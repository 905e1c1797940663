package provider

import (
	"sync"

	"github.com/ws2go/ws2/wsa"
)

// Registry maps provider paths (the analog of a provider DLL's path in the
// catalog) to their WSPStartup, the way database/sql maps driver names. A
// catalog resolves an entry's path through its Registry.
type Registry struct {
	mu sync.RWMutex
	m  map[string]StartupFunc
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{m: make(map[string]StartupFunc)} }

// DefaultRegistry is the process-wide registry, used by catalogs made with a
// nil registry.
var DefaultRegistry = NewRegistry()

// Register adds a provider under path. Registering an empty path, a nil
// function, or a path already taken is WSAEINVAL.
func (r *Registry) Register(path string, fn StartupFunc) error {
	if path == "" || fn == nil {
		return wsa.WSAEINVAL
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.m[path]; dup {
		return wsa.WSAEINVAL
	}
	r.m[path] = fn
	return nil
}

// Unregister removes path; it reports whether it was there.
func (r *Registry) Unregister(path string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.m[path]
	delete(r.m, path)
	return ok
}

// Lookup returns the WSPStartup registered under path.
func (r *Registry) Lookup(path string) (StartupFunc, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	fn, ok := r.m[path]
	return fn, ok
}

// Register adds a provider to DefaultRegistry.
func Register(path string, fn StartupFunc) error { return DefaultRegistry.Register(path, fn) }
