package main

import (
	"log/slog"

	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/provider/catalogfile"
)

// useCatalogFile binds the host's catalog to the catalog file at path
// (--catalog): the file is loaded into it, replacing the built-in catalog
// (the file is made with the default catalog if it does not exist), and
// changes made to the file while ws2d runs ("ws2d catalog", other
// programs) are loaded at once and logged. Entries whose provider path this
// ws2d does not provide are logged as warnings: sockets of those entries fail
// with WSAEPROVIDERFAILEDINIT. The returned function stops following the
// file. With path "" it does nothing.
func useCatalogFile(path string, cat *provider.Catalog, log *slog.Logger) (stop func(), err error) {
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
	checkPaths(cat, log)
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			ch := cat.Changed()
			select {
			case <-ch:
				log.Info("catalog changed", "path", path, "serial", f.Serial(), "entries", len(cat.Entries()))
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
