package main

import (
	"log/slog"

	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/provider/catalogfile"
	"github.com/ws2go/ws2/provider/lsp/filter"
	"github.com/ws2go/ws2/provider/lsp/trace"
	"github.com/ws2go/ws2/wsa"
)

// useCatalogFile binds the host's catalog to the catalog file at path
// (--catalog): the file is loaded into it, replacing the built-in catalog
// (the file is made with the default catalog if it does not exist), and
// changes made to the file while ws2d runs ("ws2d catalog", other
// programs) are loaded at once and logged. Entries whose provider path this
// ws2d does not provide are logged as warnings: sockets of those entries fail
// with WSAEPROVIDERFAILEDINIT. The returned function stops following the
// file. With path "" it does nothing.
func useCatalogFile(path, filterRules string, cat *provider.Catalog, log *slog.Logger) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := catalogfile.Open(path, cat, catalogfile.Options{
		Defaults: defaultCatalog,
		Create:   true,
		Watch:    true,
		WatchError: func(err error) {
			log.Error("the catalog file changed but cannot be loaded; keeping the catalog in use", "err", err)
		},
	})
	if err != nil {
		return nil, err
	}
	registerLayers(cat, filterRules, log)
	checkPaths(cat, log)
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			ch := cat.Changed()
			select {
			case <-ch:
				log.Info("catalog changed", "path", path, "serial", f.Serial(), "entries", len(cat.Entries()))
				registerLayers(cat, filterRules, log)
				checkPaths(cat, log)
			case <-quit:
				return
			}
		}
	}()
	return func() {
		close(quit)
		<-done
		f.Close()
	}, nil
}

// checkPaths warns about entries whose provider path is not registered.
func checkPaths(cat *provider.Catalog, log *slog.Logger) {
	for _, e := range cat.Entries() {
		if _, ok := cat.Registry().Lookup(e.Path); !ok {
			log.Warn("catalog entry names a provider this ws2d does not have; its sockets will fail",
				"entry", e.Info.CatalogEntryId, "name", e.Info.ProtocolName, "path", e.Path)
		}
	}
}

// registerLayers starts serving the layered providers ws2d carries — trace
// (records to ws2d's log) and filter (rules from filterRules, or allow-all)
// — for the layer entries of the catalog installed under their default
// paths, with the layer's provider id as installed. One layer per path: a
// second layer entry under a path already served is reported by checkPaths'
// caller as served by the first.
func registerLayers(cat *provider.Catalog, filterRules string, log *slog.Logger) {
	for _, e := range cat.Entries() {
		if !e.Info.IsLayered() {
			continue
		}
		if _, ok := cat.Registry().Lookup(e.Path); ok {
			continue
		}
		id := e.Info.ProviderId
		var err error
		switch e.Path {
		case trace.DefaultPath:
			_, err = trace.Register(cat, trace.Config{Handler: log.Handler(), LayerGUID: id, ChainGUID: chainGUIDOf(cat, e.Info.CatalogEntryId)})
		case filter.DefaultPath:
			_, err = filter.Register(cat, filter.Config{RulesFile: filterRules, LayerGUID: id, ChainGUID: chainGUIDOf(cat, e.Info.CatalogEntryId)})
		default:
			continue
		}
		if err != nil {
			log.Error("cannot start the layered provider", "path", e.Path, "layer", id, "err", err)
			continue
		}
		log.Info("layered provider ready", "path", e.Path, "layer", id)
	}
}

// chainGUIDOf returns the provider id of the chain entries whose top layer
// is the layer entry with catalog id layerID (zero if there are none yet).
func chainGUIDOf(cat *provider.Catalog, layerID uint32) wsa.GUID {
	for _, e := range cat.Entries() {
		if e.Info.IsChain() && e.Info.ProtocolChain.ChainEntries[0] == layerID {
			return e.Info.ProviderId
		}
	}
	return wsa.GUID{}
}
