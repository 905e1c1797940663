// Package lsp is the home of the layered service providers (spec §3.8):
// providers that sit on protocol chains above a base provider and see, or
// change, every call of the sockets of their chains.
//
//   - trace (provider/lsp/trace) logs every WSP call with log/slog;
//   - filter (provider/lsp/filter) allows or denies connections and
//     datagrams by direction, protocol, address prefix and port, from a
//     rules file;
//   - shaper (provider/lsp/shaper) limits rates with token buckets per
//     socket and per catalog entry, and injects delay and datagram loss.
//
// Each is a provider.Layer with a procedure table that embeds
// provider.PassThrough (the guide to writing one is the documentation of
// provider.Layer). Each package has New (the layer for a catalog), Register
// (its WSPStartup under a path of the catalog's registry) and Install
// (Register, then provider.InstallLayer over chosen entries). They stack in
// any order: installing one over the chain entries of another makes chains
// of depth 2, 3, … up to MAX_PROTOCOL_CHAIN (7) entries with the base.
//
// This package holds no code; its tests run the provider suite
// (provider/providertest) over chains of the three on the netstack provider,
// and the api over such chains.
//
// Imports of the layers: provider, wsa, the standard library and
// golang.org/x/time/rate; never api, a concrete provider, the stack or
// gVisor.
package lsp
