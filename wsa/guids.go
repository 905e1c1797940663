package wsa

// Extension-function identifiers for WSAIoctl(SIO_GET_EXTENSION_FUNCTION_POINTER)
// (mswsock.h as in MinGW-w64 and Wine, spec §2.7). The ReactOS mswsock.h has
// WSAID_ACCEPTEX and WSAID_TRANSMITFILE swapped; these are the Windows values.
var (
	// WSAID_TRANSMITFILE is {B5367DF0-CBAC-11CF-95CA-00805F48A192}.
	WSAID_TRANSMITFILE = GUID{0xb5367df0, 0xcbac, 0x11cf, [8]byte{0x95, 0xca, 0x00, 0x80, 0x5f, 0x48, 0xa1, 0x92}}
	// WSAID_ACCEPTEX is {B5367DF1-CBAC-11CF-95CA-00805F48A192}.
	WSAID_ACCEPTEX = GUID{0xb5367df1, 0xcbac, 0x11cf, [8]byte{0x95, 0xca, 0x00, 0x80, 0x5f, 0x48, 0xa1, 0x92}}
	// WSAID_GETACCEPTEXSOCKADDRS is {B5367DF2-CBAC-11CF-95CA-00805F48A192}.
	WSAID_GETACCEPTEXSOCKADDRS = GUID{0xb5367df2, 0xcbac, 0x11cf, [8]byte{0x95, 0xca, 0x00, 0x80, 0x5f, 0x48, 0xa1, 0x92}}
	// WSAID_TRANSMITPACKETS is {D9689DA0-1F90-11D3-9971-00C04F68C876}.
	WSAID_TRANSMITPACKETS = GUID{0xd9689da0, 0x1f90, 0x11d3, [8]byte{0x99, 0x71, 0x00, 0xc0, 0x4f, 0x68, 0xc8, 0x76}}
	// WSAID_CONNECTEX is {25A207B9-DDF3-4660-8EE9-76E58C74063E}.
	WSAID_CONNECTEX = GUID{0x25a207b9, 0xddf3, 0x4660, [8]byte{0x8e, 0xe9, 0x76, 0xe5, 0x8c, 0x74, 0x06, 0x3e}}
	// WSAID_DISCONNECTEX is {7FDA2E11-8630-436F-A031-F536A6EEC157}.
	WSAID_DISCONNECTEX = GUID{0x7fda2e11, 0x8630, 0x436f, [8]byte{0xa0, 0x31, 0xf5, 0x36, 0xa6, 0xee, 0xc1, 0x57}}
	// WSAID_WSARECVMSG is {F689D7C8-6F1F-436B-8A53-E54FE351C322}.
	WSAID_WSARECVMSG = GUID{0xf689d7c8, 0x6f1f, 0x436b, [8]byte{0x8a, 0x53, 0xe5, 0x4f, 0xe3, 0x51, 0xc3, 0x22}}
	// WSAID_WSASENDMSG is {A441E712-754F-43CA-84A7-0DEE44CF606D}.
	WSAID_WSASENDMSG = GUID{0xa441e712, 0x754f, 0x43ca, [8]byte{0x84, 0xa7, 0x0d, 0xee, 0x44, 0xcf, 0x60, 0x6d}}
	// WSAID_MULTIPLE_RIO is {8509E081-96DD-4005-B165-9E2EE8C79E3F}, the
	// identifier of the registered-I/O function table for
	// SIO_GET_MULTIPLE_EXTENSION_FUNCTION_POINTER.
	WSAID_MULTIPLE_RIO = GUID{0x8509e081, 0x96dd, 0x4005, [8]byte{0xb1, 0x65, 0x9e, 0x2e, 0xe8, 0xc7, 0x9e, 0x3f}}
)

// Provider identifiers of the Microsoft base provider (MSAFD, spec §4.4): one
// GUID for its IPv4 entries and one for its IPv6 entries.
var (
	// MSAFD_TCPIP_PROVIDER_ID is {E70F1AA0-AB8B-11CF-8CA3-00805F48A192}.
	MSAFD_TCPIP_PROVIDER_ID = GUID{0xe70f1aa0, 0xab8b, 0x11cf, [8]byte{0x8c, 0xa3, 0x00, 0x80, 0x5f, 0x48, 0xa1, 0x92}}
	// MSAFD_TCPIP6_PROVIDER_ID is {F9EAB0C0-26D4-11D0-BBBF-00AA006C34E4}.
	MSAFD_TCPIP6_PROVIDER_ID = GUID{0xf9eab0c0, 0x26d4, 0x11d0, [8]byte{0xbb, 0xbf, 0x00, 0xaa, 0x00, 0x6c, 0x34, 0xe4}}
)

// Namespace provider identifiers of the default Windows NSPs (spec §3.7).
var (
	// NSPROVIDER_TCPIP is {22059D40-7E9E-11CF-AE5A-00AA00A7112B}, the "Tcpip"
	// (DNS, NS_DNS) namespace provider.
	NSPROVIDER_TCPIP = GUID{0x22059d40, 0x7e9e, 0x11cf, [8]byte{0xae, 0x5a, 0x00, 0xaa, 0x00, 0xa7, 0x11, 0x2b}}
	// NLA_NAMESPACE_GUID is {6642243A-3BA8-4AA6-BAA5-2E0BD71FDD83}, the
	// Network Location Awareness (NS_NLA) namespace provider.
	NLA_NAMESPACE_GUID = GUID{0x6642243a, 0x3ba8, 0x4aa6, [8]byte{0xba, 0xa5, 0x2e, 0x0b, 0xd7, 0x1f, 0xdd, 0x83}}
)

// svcidData4 is the Data4 of every svcguid.h service-class GUID.
var svcidData4 = [8]byte{0xc0, 0, 0, 0, 0, 0, 0, 0x46}

// Service-class identifiers for the RnR lookups (svcguid.h, spec §2.9).
var (
	// SVCID_HOSTNAME is {0002A800-0000-0000-C000-000000000046}.
	SVCID_HOSTNAME = GUID{0x0002a800, 0, 0, svcidData4}
	// SVCID_INET_HOSTADDRBYINETSTRING is {0002A801-0000-0000-C000-000000000046}.
	SVCID_INET_HOSTADDRBYINETSTRING = GUID{0x0002a801, 0, 0, svcidData4}
	// SVCID_INET_SERVICEBYNAME is {0002A802-0000-0000-C000-000000000046}.
	SVCID_INET_SERVICEBYNAME = GUID{0x0002a802, 0, 0, svcidData4}
	// SVCID_INET_HOSTADDRBYNAME is {0002A803-0000-0000-C000-000000000046}.
	SVCID_INET_HOSTADDRBYNAME = GUID{0x0002a803, 0, 0, svcidData4}
)

// SVCID_TCP_RR is the service class of TCP port port with DNS resource-record
// type rr: {0009pppp-0000-rrrr-C000-000000000046}.
func SVCID_TCP_RR(port, rr uint16) GUID {
	return GUID{0x00090000 | uint32(port), 0, rr, svcidData4}
}

// SVCID_TCP is the service class of TCP port port: SVCID_TCP_RR(port, 0).
func SVCID_TCP(port uint16) GUID { return SVCID_TCP_RR(port, 0) }

// SVCID_DNS is the service class of a DNS query for resource-record type
// rrtype: SVCID_TCP_RR(53, rrtype).
func SVCID_DNS(rrtype uint16) GUID { return SVCID_TCP_RR(53, rrtype) }

// SVCID_UDP_RR is the service class of UDP port port with resource-record
// type rr: {000Apppp-0000-rrrr-C000-000000000046}.
func SVCID_UDP_RR(port, rr uint16) GUID {
	return GUID{0x000a0000 | uint32(port), 0, rr, svcidData4}
}

// SVCID_UDP is the service class of UDP port port: SVCID_UDP_RR(port, 0).
func SVCID_UDP(port uint16) GUID { return SVCID_UDP_RR(port, 0) }

// IS_SVCID_TCP reports whether g is a SVCID_TCP_RR service class.
func IS_SVCID_TCP(g GUID) bool {
	return g.Data1&0xffff0000 == 0x00090000 && g.Data2 == 0 && g.Data4 == svcidData4
}

// IS_SVCID_UDP reports whether g is a SVCID_UDP_RR service class.
func IS_SVCID_UDP(g GUID) bool {
	return g.Data1&0xffff0000 == 0x000a0000 && g.Data2 == 0 && g.Data4 == svcidData4
}

// IS_SVCID_DNS reports whether g is a SVCID_DNS service class (any type).
func IS_SVCID_DNS(g GUID) bool { return g.Data1 == 0x00090035 && g.Data2 == 0 && g.Data4 == svcidData4 }

// PORT_FROM_SVCID_TCP returns the port of a SVCID_TCP_RR service class.
func PORT_FROM_SVCID_TCP(g GUID) uint16 { return uint16(g.Data1) }

// PORT_FROM_SVCID_UDP returns the port of a SVCID_UDP_RR service class.
func PORT_FROM_SVCID_UDP(g GUID) uint16 { return uint16(g.Data1) }

// RR_FROM_SVCID returns the resource-record type of a service class (Data3).
func RR_FROM_SVCID(g GUID) uint16 { return g.Data3 }
