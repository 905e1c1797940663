package api

import "github.com/ws2go/ws2/wsa"

// The conversion functions need no Session, as in C (they work before
// WSAStartup there too). They are thin over package wsa.

// Htons is htons.
func Htons(v uint16) uint16 { return wsa.Htons(v) }

// Htonl is htonl.
func Htonl(v uint32) uint32 { return wsa.Htonl(v) }

// Ntohs is ntohs.
func Ntohs(v uint16) uint16 { return wsa.Ntohs(v) }

// Ntohl is ntohl.
func Ntohl(v uint32) uint32 { return wsa.Ntohl(v) }

// InetPton is inet_pton/InetPtonW in Go shape: it returns the 4-byte
// (AF_INET, strict dotted decimal) or 16-byte (AF_INET6) network-order
// address instead of filling a buffer. The C results map as:
//
//	1              → (address, nil)
//	0 (bad string) → (nil, WSAEINVAL)
//	-1             → (nil, WSAEAFNOSUPPORT) for an af other than AF_INET/AF_INET6
func InetPton(af int32, src string) ([]byte, error) { return wsa.InetPton(af, src) }

// InetNtop is inet_ntop/InetNtopW: the text form of a 4-byte (AF_INET) or
// 16-byte (AF_INET6) network-order address, as Windows writes it. Where C
// returns NULL the error says why: WSAEAFNOSUPPORT for another af, WSAEFAULT
// for an addr shorter than the family's address.
func InetNtop(af int32, src []byte) (string, error) { return wsa.InetNtop(af, src) }

// InetAddr is inet_addr (a, a.b, a.b.c, a.b.c.d; decimal, octal or hex
// parts). Unlike C, the result is in host byte order (127.0.0.1 is
// INADDR_LOOPBACK, 0x7f000001; Htonl gives the C value), and a string that
// is not an address returns INADDR_NONE with WSAEINVAL, which tells it from
// "255.255.255.255" (INADDR_NONE with nil).
func InetAddr(cp string) (uint32, error) { return wsa.InetAddr(cp) }

// InetNtoa is inet_ntoa: the dotted-decimal form of an in_addr given as its
// four bytes in network order. The C per-thread buffer is a Go string.
func InetNtoa(in [4]byte) string { return wsa.InetNtoa(in) }
