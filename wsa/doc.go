// Package wsa is the Winsock 2 vocabulary: the constants, error codes, address
// and protocol-information types of winsock2.h, ws2def.h, ws2ipdef.h and
// mswsock.h, with their Windows values, in Go form.
//
// Every other ws2 package speaks this vocabulary, so code ported from C or from
// golang.org/x/sys/windows reads the same: AF_INET6 is 23, SOL_SOCKET is
// 0xffff, FIONBIO is 0x8004667e, and errors are [Errno] values carrying the
// exact WSAE* code Windows gives (errors.Is(err, wsa.WSAEWOULDBLOCK)).
//
// Types map C to Go as follows: C int is int32, DWORD and u_long are uint32,
// SOCKET is [Socket], HANDLE and WSAEVENT are [Handle], a sockaddr with its
// length is a [Sockaddr], WSAPROTOCOL_INFOW is [ProtocolInfo]. Types that have
// a fixed binary layout on Windows (sockaddr_in, WSAPROTOCOL_INFOW, GUID,
// linger, tcp_keepalive) can be marshalled to and from that layout, for option
// buffers and files.
//
// Imports: the standard library only. Nothing in this package blocks or keeps
// state; all of it is safe for concurrent use.
package wsa
