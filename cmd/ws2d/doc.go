// Command ws2d brings a userspace Winsock host up on a Linux TUN device and
// serves through it.
//
// It creates the TUN interface, attaches a gVisor TCP/IP stack to it with the
// host's addresses, starts a Winsock session (package api) over that stack,
// and runs services written against the Winsock calls alone. Today the one
// service is echo (RFC 862) on TCP and UDP, over IPv4 and IPv6 for each
// family that has an address: every byte a client sends comes back.
//
// Usage:
//
//	ws2d --tun NAME --addr CIDR [--addr CIDR]... [--kernel-addr CIDR]...
//	     [--mtu N] [--tun-offload] [--pcap FILE] [--echo-port N]
//	     [--catalog PATH]
//	ws2d catalog [--file PATH] show|install|remove|order|reset ...
//
// The flags are:
//
//	--tun NAME          TUN interface to create (required; at most 15 bytes)
//	--addr CIDR         an address of the userspace host, with its prefix
//	                    length (required; repeatable; IPv4 or IPv6)
//	--kernel-addr CIDR  an address for the kernel's side of the TUN, so that
//	                    programs on this machine can reach the host
//	                    (repeatable)
//	--mtu N             link MTU, 68..65535 (default 1500)
//	--tun-offload       open the TUN with the offload driver: IFF_VNET_HDR
//	                    with TSO/USO and checksum offload, GSO
//	                    super-packets read and GRO super-packets written
//	                    (package tun, Config.Offload); falls back to the
//	                    plain driver, with a warning, if the kernel refuses
//	--pcap FILE         write a pcap capture of the TUN link to FILE
//	--echo-port N       TCP and UDP port of the echo service, 1..65535
//	                    (default 7)
//	--catalog PATH      load the protocol catalog from the catalog file
//	                    PATH (made with the default catalog if missing)
//	                    and follow its changes while running
//	--help              print the usage and exit
//
// # The catalog command
//
// "ws2d catalog" manages a protocol catalog file (package
// provider/catalogfile), the analog of Windows' Protocol_Catalog9 registry
// key, as "netsh winsock" does: show prints it in the layout of "netsh
// winsock show catalog" (flags decoded, chains listed); install adds a
// layered provider the standard way (a hidden layer entry, a chain over each
// chosen entry, the chains first in the order); remove takes a provider (a
// layer with the chains it tops) out; order rewrites the order; reset
// restores the default catalog. The file is --file PATH, else $WS2_CATALOG,
// else /var/lib/ws2/catalog.json. "ws2d catalog --help" has the details.
//
// Example, as root (CAP_NET_ADMIN is needed to create the device):
//
//	ws2d --tun ws2 --addr 192.0.2.1/24 --kernel-addr 192.0.2.2/24 &
//	echo hello | socat -t 5 - TCP:192.0.2.1:7
//
// SIGTERM or SIGINT stops ws2d cleanly: the listeners and connections are
// closed, the Winsock session is cleaned up (WSACleanup) and the TUN device
// is removed. ws2d logs to standard error with log/slog.
//
// Exit status: 0 after a clean stop (or --help), 1 when the host cannot be
// brought up or stopped (for example without CAP_NET_ADMIN, or without
// /dev/net/tun), 2 for a bad command line.
package main
