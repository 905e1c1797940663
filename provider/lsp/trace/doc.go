// Package trace is a layered service provider that logs every WSP call of
// the sockets of its chains with log/slog: one record per call, its message
// the routine's name (WSPSend, WSPConnect, AcceptEx, …), with the socket,
// the arguments (sizes, addresses, flags, whether overlapped; never payload
// bytes), the result (bytes, the new socket, the address) and error (the
// WSAE* name), and the call's duration:
//
//	level=INFO msg=WSPSend socket=312 bytes=5 bufs=1 flags=0x0 overlapped=false n=5 dur=14.2µs
//
// The handler is the caller's (Config.Handler), the level Config.Level;
// when the handler does not take that level the layer only forwards, without
// building records. The records of overlapped calls are written when the
// call returns (WSA_IO_PENDING): the completion goes from the base provider
// straight to the api and is not traced.
//
// Use: New (a layer for a catalog), then Register (its WSPStartup under
// Config.Path, for a catalog that already holds its entries) or Install
// (Register, then provider.InstallLayer over chosen entries, chains first).
// Config.LayerGUID, ChainGUID and Path tell two tracers in one catalog
// apart. The layer stacks with the other layers of provider/lsp in any
// order.
//
// Imports: provider, wsa and the standard library.
package trace
