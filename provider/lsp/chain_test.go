package lsp_test

import (
	"context"
	"log/slog"
	"sync/atomic"
	"testing"

	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/provider/lsp/filter"
	"github.com/ws2go/ws2/provider/lsp/shaper"
	"github.com/ws2go/ws2/provider/lsp/trace"
	"github.com/ws2go/ws2/provider/providertest"
)

// countHandler counts records (so the trace layer builds them all).
type countHandler struct{ n atomic.Int64 }

func (h *countHandler) Enabled(context.Context, slog.Level) bool  { return true }
func (h *countHandler) Handle(context.Context, slog.Record) error { h.n.Add(1); return nil }
func (h *countHandler) WithAttrs([]slog.Attr) slog.Handler        { return h }
func (h *countHandler) WithGroup(string) slog.Handler             { return h }

func traceLayer(h slog.Handler) providertest.LayerInstaller {
	return func(cat *provider.Catalog, over []uint32) error {
		_, err := trace.Install(cat, trace.Config{Handler: h}, over)
		return err
	}
}

func filterLayer(rules string) providertest.LayerInstaller {
	return func(cat *provider.Catalog, over []uint32) error {
		rs, err := filter.ParseString(rules)
		if err != nil {
			return err
		}
		_, err = filter.Install(cat, filter.Config{Rules: rs}, over)
		return err
	}
}

func shaperLayer(l shaper.Limits) providertest.LayerInstaller {
	return func(cat *provider.Catalog, over []uint32) error {
		_, err := shaper.Install(cat, shaper.Config{Limits: l}, over)
		return err
	}
}

// unusedDenies are rules that deny traffic no test makes, so every
// filtered path of the filter (intercepted AcceptEx and receives, checked
// connects and sends) runs while nothing is refused.
const unusedDenies = `
deny out any 198.51.100.7
deny in  any 198.51.100.7
deny any any 2001:db8:beef::7/128 1-65535
`

// TestChainSuites runs the provider suite over chains of depth 1, 2 and 3
// of the layers: on netstack (loopback and pipe) and on the host provider
// (the kernel's loopback).
func TestChainSuites(t *testing.T) {
	h := &countHandler{}
	chains := []struct {
		name   string
		layers []providertest.LayerInstaller
	}{
		{"Trace", []providertest.LayerInstaller{traceLayer(h)}},
		{"FilterTrace", []providertest.LayerInstaller{traceLayer(h), filterLayer("")}},
		{"TraceShaperFilter", []providertest.LayerInstaller{filterLayer(unusedDenies), shaperLayer(shaper.Limits{}), traceLayer(h)}},
	}
	t.Run("group", func(t *testing.T) {
		for _, c := range chains {
			hss := append(chainHarnesses(c.name, c.layers...), hostChainHarness(c.name, c.layers...))
			for _, hs := range hss {
				t.Run(hs.Name, func(t *testing.T) {
					t.Parallel()
					providertest.Run(t, hs)
				})
			}
		}
	})
	if h.n.Load() == 0 {
		t.Error("the trace layer logged nothing")
	}
}
