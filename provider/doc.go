// Package provider is the Winsock 2 service provider interface: the Go form of
// ws2spi.h.
//
// A transport provider is registered under a name (the analog of its DLL
// path) with its [StartupFunc], WSPStartup. WSPStartup returns a [ProcTable]:
// every WSP routine of WSPPROC_TABLE, with the Go mapping rules of the api
// package (a pointer and length become a slice, a WSABUF array [][]byte, a
// sockaddr a wsa.Sockaddr, lpErrno the error result, which is a wsa.Errno).
// The api package, the analog of ws2_32.dll, passes each provider an
// [UpcallTable] (WSPUPCALLTABLE plus WPUCompleteOverlappedRequest): providers
// make their socket handles through it and complete overlapped work through
// it, while the api owns handles, events, APC queues and completion ports.
//
// The [Catalog] is data: ordered wsa.ProtocolInfo entries with the WSC*
// operations, and [Catalog.Select] picks the entry for WSASocket exactly as
// Winsock does (spec §3.9).
//
// Layered providers sit on protocol chains (spec §3.8): [InstallLayer]
// installs a layer entry and chain entries over chosen entries, a [Layer]
// is a layered provider's WSPStartup (it finds its position in the chain and
// starts the next provider), and [PassThrough] forwards every routine, so a
// layer overrides only what it needs. The Layer documentation is the guide
// to writing one.
//
// Imports: wsa and the standard library only; never api, stack, tun or gVisor.
// Everything here is safe for concurrent use unless a doc comment says
// otherwise.
package provider
