package lsp_test

import (
	"fmt"
	"testing"

	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/provider/providertest"
	"github.com/ws2go/ws2/wsa"
)

// plainLayer installs a provider.Layer that changes nothing (a bare
// PassThrough); n tells layers apart (GUIDs and paths).
func plainLayer(n int, intercept bool) providertest.LayerInstaller {
	return func(cat *provider.Catalog, over []uint32) error {
		layerID := wsa.GUID{Data1: 0x1a000 + uint32(n)}
		chainID := wsa.GUID{Data1: 0x1c000 + uint32(n)}
		path := fmt.Sprintf("test/plain%d", n)
		l := &provider.Layer{Catalog: cat, ID: layerID, Description: path, InterceptCompletions: intercept}
		if err := cat.Registry().Register(path, l.Startup); err != nil {
			return err
		}
		return provider.InstallLayer(cat, layerID, chainID, path, fmt.Sprintf("Plain %d", n), over)
	}
}

// TestPassThroughSuite: layers that change nothing pass the suite, with and
// without an intercepting upcall table below them.
func TestPassThroughSuite(t *testing.T) {
	// Loopback only: the layer chains of TestChainSuites run on the pipe.
	hs := []providertest.Harness{
		chainHarnesses("Plain1", plainLayer(1, false))[0],
		chainHarnesses("Plain2Intercepting", plainLayer(1, true), plainLayer(2, false))[0],
	}
	for _, h := range hs {
		t.Run(h.Name, func(t *testing.T) {
			t.Parallel()
			providertest.Run(t, h)
		})
	}
}
