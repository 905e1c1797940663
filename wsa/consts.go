package wsa

// This file holds the numeric vocabulary of winsock2.h, ws2def.h, ws2ipdef.h,
// ws2tcpip.h, mstcpip.h and mswsock.h with the values Windows uses (spec §6
// and the sections cited per group). Constants are untyped unless noted, so
// that they can be passed without conversion where C takes an int (int32), a
// DWORD/u_long (uint32), a u_short (uint16) or a SHORT (int16).

// Address families (ws2def.h, spec §6.1). AF_MAX is the Windows 7 SDK value;
// later SDKs add AF_HYPERV (34) and raise AF_MAX.
const (
	AF_UNSPEC     = 0
	AF_UNIX       = 1
	AF_INET       = 2
	AF_IMPLINK    = 3
	AF_PUP        = 4
	AF_CHAOS      = 5
	AF_NS         = 6
	AF_IPX        = AF_NS
	AF_ISO        = 7
	AF_OSI        = AF_ISO
	AF_ECMA       = 8
	AF_DATAKIT    = 9
	AF_CCITT      = 10
	AF_SNA        = 11
	AF_DECnet     = 12
	AF_DLI        = 13
	AF_LAT        = 14
	AF_HYLINK     = 15
	AF_APPLETALK  = 16
	AF_NETBIOS    = 17
	AF_VOICEVIEW  = 18
	AF_FIREFOX    = 19
	AF_UNKNOWN1   = 20
	AF_BAN        = 21
	AF_ATM        = 22
	AF_INET6      = 23
	AF_CLUSTER    = 24
	AF_12844      = 25
	AF_IRDA       = 26
	AF_NETDES     = 28
	AF_TCNPROCESS = 29
	AF_TCNMESSAGE = 30
	AF_ICLFXBM    = 31
	AF_BTH        = 32
	AF_LINK       = 33
	AF_HYPERV     = 34
	AF_MAX        = 34
)

// Protocol families: PF_x = AF_x (ws2def.h, spec §6.1).
const (
	PF_UNSPEC     = AF_UNSPEC
	PF_UNIX       = AF_UNIX
	PF_INET       = AF_INET
	PF_IMPLINK    = AF_IMPLINK
	PF_PUP        = AF_PUP
	PF_CHAOS      = AF_CHAOS
	PF_NS         = AF_NS
	PF_IPX        = AF_IPX
	PF_ISO        = AF_ISO
	PF_OSI        = AF_OSI
	PF_ECMA       = AF_ECMA
	PF_DATAKIT    = AF_DATAKIT
	PF_CCITT      = AF_CCITT
	PF_SNA        = AF_SNA
	PF_DECnet     = AF_DECnet
	PF_DLI        = AF_DLI
	PF_LAT        = AF_LAT
	PF_HYLINK     = AF_HYLINK
	PF_APPLETALK  = AF_APPLETALK
	PF_NETBIOS    = AF_NETBIOS
	PF_VOICEVIEW  = AF_VOICEVIEW
	PF_FIREFOX    = AF_FIREFOX
	PF_UNKNOWN1   = AF_UNKNOWN1
	PF_BAN        = AF_BAN
	PF_ATM        = AF_ATM
	PF_INET6      = AF_INET6
	PF_CLUSTER    = AF_CLUSTER
	PF_12844      = AF_12844
	PF_IRDA       = AF_IRDA
	PF_NETDES     = AF_NETDES
	PF_TCNPROCESS = AF_TCNPROCESS
	PF_TCNMESSAGE = AF_TCNMESSAGE
	PF_ICLFXBM    = AF_ICLFXBM
	PF_BTH        = AF_BTH
	PF_LINK       = AF_LINK
	PF_HYPERV     = AF_HYPERV
	PF_MAX        = AF_MAX
)

// Socket types (spec §6.2).
const (
	SOCK_STREAM    = 1
	SOCK_DGRAM     = 2
	SOCK_RAW       = 3
	SOCK_RDM       = 4
	SOCK_SEQPACKET = 5
)

// FROM_PROTOCOL_INFO is the af, type or protocol argument of WSASocket that
// means "take the value from the WSAPROTOCOL_INFO" (spec §3.9).
const FROM_PROTOCOL_INFO = -1

// IP protocols (ws2def.h IPPROTO enum, spec §6.3). IPPROTO_IP and
// IPPROTO_HOPOPTS are both 0; IPPROTO_RM is IPPROTO_PGM.
const (
	IPPROTO_IP                    = 0
	IPPROTO_HOPOPTS               = 0
	IPPROTO_ICMP                  = 1
	IPPROTO_IGMP                  = 2
	IPPROTO_GGP                   = 3
	IPPROTO_IPV4                  = 4
	IPPROTO_ST                    = 5
	IPPROTO_TCP                   = 6
	IPPROTO_CBT                   = 7
	IPPROTO_EGP                   = 8
	IPPROTO_IGP                   = 9
	IPPROTO_PUP                   = 12
	IPPROTO_UDP                   = 17
	IPPROTO_IDP                   = 22
	IPPROTO_RDP                   = 27
	IPPROTO_IPV6                  = 41
	IPPROTO_ROUTING               = 43
	IPPROTO_FRAGMENT              = 44
	IPPROTO_ESP                   = 50
	IPPROTO_AH                    = 51
	IPPROTO_ICMPV6                = 58
	IPPROTO_NONE                  = 59
	IPPROTO_DSTOPTS               = 60
	IPPROTO_ND                    = 77
	IPPROTO_ICLFXBM               = 78
	IPPROTO_PIM                   = 103
	IPPROTO_PGM                   = 113
	IPPROTO_RM                    = IPPROTO_PGM
	IPPROTO_L2TP                  = 115
	IPPROTO_SCTP                  = 132
	IPPROTO_RAW                   = 255
	IPPROTO_MAX                   = 256
	IPPROTO_RESERVED_RAW          = 257
	IPPROTO_RESERVED_IPSEC        = 258
	IPPROTO_RESERVED_IPSECOFFLOAD = 259
)

// Option levels other than the IPPROTO_* ones (spec §6.3).
const (
	SOL_SOCKET      = 0xffff
	NSPROTO_IPX     = 1000
	SOL_IRLMP       = 0xFF
	BTHPROTO_RFCOMM = 3
)

// SOL_SOCKET options (ws2def.h, winsock2.h, spec §6.4). SO_DONTLINGER is
// ~SO_LINGER and SO_EXCLUSIVEADDRUSE is ~SO_REUSEADDR: as int32 option names
// they are -129 and -5 (0xFFFFFF7F and 0xFFFFFFFB).
const (
	SO_DEBUG               = 0x0001
	SO_ACCEPTCONN          = 0x0002
	SO_REUSEADDR           = 0x0004
	SO_KEEPALIVE           = 0x0008
	SO_DONTROUTE           = 0x0010
	SO_BROADCAST           = 0x0020
	SO_USELOOPBACK         = 0x0040
	SO_LINGER              = 0x0080
	SO_OOBINLINE           = 0x0100
	SO_DONTLINGER          = -129 // ~SO_LINGER
	SO_EXCLUSIVEADDRUSE    = -5   // ~SO_REUSEADDR
	SO_SNDBUF              = 0x1001
	SO_RCVBUF              = 0x1002
	SO_SNDLOWAT            = 0x1003
	SO_RCVLOWAT            = 0x1004
	SO_SNDTIMEO            = 0x1005
	SO_RCVTIMEO            = 0x1006
	SO_ERROR               = 0x1007
	SO_TYPE                = 0x1008
	SO_BSP_STATE           = 0x1009
	SO_GROUP_ID            = 0x2001
	SO_GROUP_PRIORITY      = 0x2002
	SO_MAX_MSG_SIZE        = 0x2003
	SO_PROTOCOL_INFOA      = 0x2004
	SO_PROTOCOL_INFOW      = 0x2005
	PVD_CONFIG             = 0x3001
	SO_CONDITIONAL_ACCEPT  = 0x3002
	SO_PAUSE_ACCEPT        = 0x3003
	SO_COMPARTMENT_ID      = 0x3004
	SO_RANDOMIZE_PORT      = 0x3005
	SO_PORT_SCALABILITY    = 0x3006
	SO_REUSE_UNICASTPORT   = 0x3007
	SO_REUSE_MULTICASTPORT = 0x3008
	SO_ORIGINAL_DST        = 0x300F
	WSK_SO_BASE            = 0x4000
)

// SOL_SOCKET options of mswsock.h (spec §6.4).
const (
	SO_CONNDATA               = 0x7000
	SO_CONNOPT                = 0x7001
	SO_DISCDATA               = 0x7002
	SO_DISCOPT                = 0x7003
	SO_CONNDATALEN            = 0x7004
	SO_CONNOPTLEN             = 0x7005
	SO_DISCDATALEN            = 0x7006
	SO_DISCOPTLEN             = 0x7007
	SO_OPENTYPE               = 0x7008
	SO_MAXDG                  = 0x7009
	SO_MAXPATHDG              = 0x700A
	SO_UPDATE_ACCEPT_CONTEXT  = 0x700B
	SO_CONNECT_TIME           = 0x700C
	SO_UPDATE_CONNECT_CONTEXT = 0x7010
)

// Values of the per-thread SO_OPENTYPE option (mswsock.h): sockets created
// by socket() are then synchronous (non-overlapped).
const (
	SO_SYNCHRONOUS_ALERT    = 0x10
	SO_SYNCHRONOUS_NONALERT = 0x20
)

// IPPROTO_IP options, Winsock 2 numbering (ws2ipdef.h, spec §6.5). Winsock
// 1.1 (winsock.h, wsock32) used other numbers for some of them; these are
// not those.
const (
	IP_OPTIONS                = 1
	IP_HDRINCL                = 2
	IP_TOS                    = 3
	IP_TTL                    = 4
	IP_MULTICAST_IF           = 9
	IP_MULTICAST_TTL          = 10
	IP_MULTICAST_LOOP         = 11
	IP_ADD_MEMBERSHIP         = 12
	IP_DROP_MEMBERSHIP        = 13
	IP_DONTFRAGMENT           = 14
	IP_ADD_SOURCE_MEMBERSHIP  = 15
	IP_DROP_SOURCE_MEMBERSHIP = 16
	IP_BLOCK_SOURCE           = 17
	IP_UNBLOCK_SOURCE         = 18
	IP_PKTINFO                = 19
	IP_HOPLIMIT               = 21
	IP_RECVTTL                = 21
	IP_RECEIVE_BROADCAST      = 22
	IP_RECVIF                 = 24
	IP_RECVDSTADDR            = 25
	IP_IFLIST                 = 28
	IP_ADD_IFLIST             = 29
	IP_DEL_IFLIST             = 30
	IP_UNICAST_IF             = 31
	IP_RTHDR                  = 32
	IP_GET_IFLIST             = 33
	IP_RECVRTHDR              = 38
	IP_TCLASS                 = 39
	IP_RECVTCLASS             = 40
	IP_RECVTOS                = 40
	IP_ORIGINAL_ARRIVAL_IF    = 47
	IP_ECN                    = 50
	IP_PKTINFO_EX             = 51
	IP_WFP_REDIRECT_RECORDS   = 60
	IP_WFP_REDIRECT_CONTEXT   = 70
	IP_MTU_DISCOVER           = 71
	IP_MTU                    = 73
	IP_NRT_INTERFACE          = 74
	IP_RECVERR                = 75
	IP_USER_MTU               = 76
)

// Protocol-independent multicast options (ws2ipdef.h), valid at IPPROTO_IP
// and IPPROTO_IPV6.
const (
	MCAST_JOIN_GROUP         = 41
	MCAST_LEAVE_GROUP        = 42
	MCAST_BLOCK_SOURCE       = 43
	MCAST_UNBLOCK_SOURCE     = 44
	MCAST_JOIN_SOURCE_GROUP  = 45
	MCAST_LEAVE_SOURCE_GROUP = 46
)

// IPPROTO_IPV6 options (ws2ipdef.h, spec §6.6). IPV6_V6ONLY defaults to TRUE
// on Windows.
const (
	IPV6_HOPOPTS          = 1
	IPV6_HDRINCL          = 2
	IPV6_UNICAST_HOPS     = 4
	IPV6_MULTICAST_IF     = 9
	IPV6_MULTICAST_HOPS   = 10
	IPV6_MULTICAST_LOOP   = 11
	IPV6_ADD_MEMBERSHIP   = 12
	IPV6_JOIN_GROUP       = IPV6_ADD_MEMBERSHIP
	IPV6_DROP_MEMBERSHIP  = 13
	IPV6_LEAVE_GROUP      = IPV6_DROP_MEMBERSHIP
	IPV6_DONTFRAG         = 14
	IPV6_PKTINFO          = 19
	IPV6_HOPLIMIT         = 21
	IPV6_PROTECTION_LEVEL = 23
	IPV6_RECVIF           = 24
	IPV6_RECVDSTADDR      = 25
	IPV6_CHECKSUM         = 26
	IPV6_V6ONLY           = 27
	IPV6_IFLIST           = 28
	IPV6_ADD_IFLIST       = 29
	IPV6_DEL_IFLIST       = 30
	IPV6_UNICAST_IF       = 31
	IPV6_RTHDR            = 32
	IPV6_GET_IFLIST       = 33
	IPV6_RECVRTHDR        = 38
	IPV6_TCLASS           = 39
	IPV6_RECVTCLASS       = 40
	IPV6_ECN              = 50
	IPV6_PKTINFO_EX       = 51
	IPV6_MTU_DISCOVER     = 71
	IPV6_MTU              = 72
	IPV6_NRT_INTERFACE    = 74
	IPV6_RECVERR          = 75
	IPV6_USER_MTU         = 76
)

// IPPROTO_TCP options (ws2ipdef.h, mswsock.h, spec §6.7). TCP_KEEPALIVE,
// TCP_KEEPIDLE, TCP_MAXRT and TCP_KEEPINTVL are in seconds.
const (
	TCP_NODELAY                    = 1
	TCP_EXPEDITED_1122             = 2
	TCP_KEEPALIVE                  = 3
	TCP_KEEPIDLE                   = TCP_KEEPALIVE
	TCP_MAXSEG                     = 4
	TCP_MAXRT                      = 5
	TCP_STDURG                     = 6
	TCP_NOURG                      = 7
	TCP_ATMARK                     = 8
	TCP_NOSYNRETRIES               = 9
	TCP_TIMESTAMPS                 = 10
	TCP_OFFLOAD_PREFERENCE         = 11
	TCP_CONGESTION_ALGORITHM       = 12
	TCP_DELAY_FIN_ACK              = 13
	TCP_MAXRTMS                    = 14
	TCP_FASTOPEN                   = 15
	TCP_KEEPCNT                    = 16
	TCP_KEEPINTVL                  = 17
	TCP_FAIL_CONNECT_ON_ICMP_ERROR = 18
	TCP_ICMP_ERROR_INFO            = 19
	TCP_BSDURGENT                  = 0x7000
)

// IPPROTO_UDP options and control-message types (ws2ipdef.h, spec §6.7).
const (
	UDP_NOCHECKSUM              = 1
	UDP_SEND_MSG_SIZE           = 2
	UDP_RECV_MAX_COALESCED_SIZE = 3
	UDP_COALESCED_INFO          = 3
	UDP_CHECKSUM_COVERAGE       = 20
)

// Send and receive flags (MSG_*, spec §6.8, §5.9).
const (
	MSG_OOB            = 0x1
	MSG_PEEK           = 0x2
	MSG_DONTROUTE      = 0x4
	MSG_WAITALL        = 0x8
	MSG_INTERRUPT      = 0x10
	MSG_PUSH_IMMEDIATE = 0x20
	MSG_TRUNC          = 0x100
	MSG_CTRUNC         = 0x200
	MSG_BCAST          = 0x400
	MSG_MCAST          = 0x800
	MSG_ERRQUEUE       = 0x1000
	MSG_PARTIAL        = 0x8000
	MSG_MAXIOVLEN      = 16
)

// Ioctl code encoding (winsock2.h, ws2def.h, spec §6.9). A code is
// direction | (parameter size & IOCPARM_MASK) << 16 | group << 8 | number for
// the BSD _IO/_IOR/_IOW macros, and direction | family | number for the
// Winsock _WSAIO/_WSAIOR/_WSAIOW/_WSAIORW macros.
const (
	IOCPARM_MASK = 0x7f
	IOC_VOID     = 0x20000000
	IOC_OUT      = 0x40000000
	IOC_IN       = 0x80000000
	IOC_INOUT    = IOC_IN | IOC_OUT

	IOC_UNIX     = 0x00000000
	IOC_WS2      = 0x08000000
	IOC_PROTOCOL = 0x10000000
	IOC_VENDOR   = 0x18000000
	IOC_WSK      = IOC_WS2 | 0x07000000
)

// Ioctl codes for ioctlsocket and WSAIoctl (spec §6.9). They are DWORD
// values; pass them as the uint32 cmd argument.
const (
	FIONBIO    = 0x8004667E // _IOW('f', 126, u_long)
	FIONREAD   = 0x4004667F // _IOR('f', 127, u_long)
	FIOASYNC   = 0x8004667D // _IOW('f', 125, u_long)
	SIOCSHIWAT = 0x80047300 // _IOW('s', 0, u_long)
	SIOCGHIWAT = 0x40047301 // _IOR('s', 1, u_long)
	SIOCSLOWAT = 0x80047302 // _IOW('s', 2, u_long)
	SIOCGLOWAT = 0x40047303 // _IOR('s', 3, u_long)
	SIOCATMARK = 0x40047307 // _IOR('s', 7, u_long)

	SIO_ASSOCIATE_HANDLE                        = 0x88000001 // _WSAIOW(IOC_WS2, 1)
	SIO_ENABLE_CIRCULAR_QUEUEING                = 0x28000002 // _WSAIO(IOC_WS2, 2)
	SIO_FIND_ROUTE                              = 0x48000003 // _WSAIOR(IOC_WS2, 3)
	SIO_FLUSH                                   = 0x28000004 // _WSAIO(IOC_WS2, 4)
	SIO_GET_BROADCAST_ADDRESS                   = 0x48000005 // _WSAIOR(IOC_WS2, 5)
	SIO_GET_EXTENSION_FUNCTION_POINTER          = 0xC8000006 // _WSAIORW(IOC_WS2, 6)
	SIO_GET_QOS                                 = 0xC8000007 // _WSAIORW(IOC_WS2, 7)
	SIO_GET_GROUP_QOS                           = 0xC8000008 // _WSAIORW(IOC_WS2, 8)
	SIO_MULTIPOINT_LOOPBACK                     = 0x88000009 // _WSAIOW(IOC_WS2, 9)
	SIO_MULTICAST_SCOPE                         = 0x8800000A // _WSAIOW(IOC_WS2, 10)
	SIO_SET_QOS                                 = 0x8800000B // _WSAIOW(IOC_WS2, 11)
	SIO_SET_GROUP_QOS                           = 0x8800000C // _WSAIOW(IOC_WS2, 12)
	SIO_TRANSLATE_HANDLE                        = 0xC800000D // _WSAIORW(IOC_WS2, 13)
	SIO_ROUTING_INTERFACE_QUERY                 = 0xC8000014 // _WSAIORW(IOC_WS2, 20)
	SIO_ROUTING_INTERFACE_CHANGE                = 0x88000015 // _WSAIOW(IOC_WS2, 21)
	SIO_ADDRESS_LIST_QUERY                      = 0x48000016 // _WSAIOR(IOC_WS2, 22)
	SIO_ADDRESS_LIST_CHANGE                     = 0x28000017 // _WSAIO(IOC_WS2, 23)
	SIO_QUERY_TARGET_PNP_HANDLE                 = 0x48000018 // _WSAIOR(IOC_WS2, 24)
	SIO_ADDRESS_LIST_SORT                       = 0xC8000019 // _WSAIORW(IOC_WS2, 25)
	SIO_NSP_NOTIFY_CHANGE                       = 0x88000019 // _WSAIOW(IOC_WS2, 25)
	SIO_BSP_HANDLE                              = 0x4800001B // _WSAIOR(IOC_WS2, 27)
	SIO_BSP_HANDLE_SELECT                       = 0x4800001C // _WSAIOR(IOC_WS2, 28)
	SIO_BSP_HANDLE_POLL                         = 0x4800001D // _WSAIOR(IOC_WS2, 29)
	SIO_EXT_SELECT                              = 0xC800001E // _WSAIORW(IOC_WS2, 30)
	SIO_EXT_POLL                                = 0xC800001F // _WSAIORW(IOC_WS2, 31)
	SIO_EXT_SENDMSG                             = 0xC8000020 // _WSAIORW(IOC_WS2, 32)
	SIO_BASE_HANDLE                             = 0x48000022 // _WSAIOR(IOC_WS2, 34)
	SIO_GET_MULTIPLE_EXTENSION_FUNCTION_POINTER = 0xC8000024 // _WSAIORW(IOC_WS2, 36)

	SIO_GET_INTERFACE_LIST        = 0x4004747F // _IOR('t', 127, u_long)
	SIO_IDEAL_SEND_BACKLOG_QUERY  = 0x4004747B // _IOR('t', 123, u_long)
	SIO_IDEAL_SEND_BACKLOG_CHANGE = 0x2000747A // _IO('t', 122)

	SIO_RCVALL              = 0x98000001 // _WSAIOW(IOC_VENDOR, 1)
	SIO_RCVALL_MCAST        = 0x98000002 // _WSAIOW(IOC_VENDOR, 2)
	SIO_RCVALL_IGMPMCAST    = 0x98000003 // _WSAIOW(IOC_VENDOR, 3)
	SIO_KEEPALIVE_VALS      = 0x98000004 // _WSAIOW(IOC_VENDOR, 4)
	SIO_ABSORB_RTRALERT     = 0x98000005 // _WSAIOW(IOC_VENDOR, 5)
	SIO_UCAST_IF            = 0x98000006 // _WSAIOW(IOC_VENDOR, 6)
	SIO_LIMIT_BROADCASTS    = 0x98000007 // _WSAIOW(IOC_VENDOR, 7)
	SIO_INDEX_BIND          = 0x98000008 // _WSAIOW(IOC_VENDOR, 8)
	SIO_INDEX_MCASTIF       = 0x98000009 // _WSAIOW(IOC_VENDOR, 9)
	SIO_INDEX_ADD_MCAST     = 0x9800000A // _WSAIOW(IOC_VENDOR, 10)
	SIO_INDEX_DEL_MCAST     = 0x9800000B // _WSAIOW(IOC_VENDOR, 11)
	SIO_UDP_CONNRESET       = 0x9800000C // _WSAIOW(IOC_VENDOR, 12)
	SIO_SOCKET_CLOSE_NOTIFY = 0x9800000D // _WSAIOW(IOC_VENDOR, 13)
	SIO_RCVALL_MCAST_IF     = 0x9800000D // _WSAIOW(IOC_VENDOR, 13)
	SIO_RCVALL_IF           = 0x9800000E // _WSAIOW(IOC_VENDOR, 14)
	SIO_UDP_NETRESET        = 0x9800000F // _WSAIOW(IOC_VENDOR, 15)
	SIO_LOOPBACK_FAST_PATH  = 0x98000010 // _WSAIOW(IOC_VENDOR, 16)
	SIO_TCP_INITIAL_RTO     = 0x98000011 // _WSAIOW(IOC_VENDOR, 17)
)

// SIO_RCVALL modes (mstcpip.h RCVALL_VALUE).
const (
	RCVALL_OFF             = 0
	RCVALL_ON              = 1
	RCVALL_SOCKETLEVELONLY = 2
)

// WSAWaitForMultipleEvents limits and results (spec §6.11, §2.5).
const (
	WSA_MAXIMUM_WAIT_EVENTS = 64
	WSA_WAIT_EVENT_0        = 0
	WSA_WAIT_IO_COMPLETION  = 0xC0
	WSA_WAIT_TIMEOUT        = 0x102
	WSA_WAIT_FAILED         = 0xFFFFFFFF
	WSA_INFINITE            = 0xFFFFFFFF
)

// Miscellaneous limits and sizes (spec §6.11, §2.10).
const (
	FD_SETSIZE         = 64
	SOMAXCONN          = 0x7fffffff
	WSADESCRIPTION_LEN = 256
	WSASYS_STATUS_LEN  = 128
	WSPDESCRIPTION_LEN = 255
	MAXGETHOSTSTRUCT   = 1024
	NI_MAXHOST         = 1025
	NI_MAXSERV         = 32
	INET_ADDRSTRLEN    = 22
	INET6_ADDRSTRLEN   = 65
)

// SOMAXCONN_HINT returns the listen backlog that asks for b entries exactly
// (clamped by the provider to [200, 65535] on Windows): -b.
func SOMAXCONN_HINT(b int32) int32 { return -b }

// IPv4 addresses in host byte order (spec §6.11). INADDR_NONE is what
// inet_addr returns for a bad string.
const (
	INADDR_ANY       = 0x00000000
	INADDR_LOOPBACK  = 0x7f000001
	INADDR_BROADCAST = 0xffffffff
	INADDR_NONE      = 0xffffffff
)

// shutdown how values (spec §5.6).
const (
	SD_RECEIVE = 0
	SD_SEND    = 1
	SD_BOTH    = 2
)

// WSAAccept condition-function results (spec §2.2).
const (
	CF_ACCEPT = 0
	CF_REJECT = 1
	CF_DEFER  = 2
)

// WSAPoll event bits (spec §6.12, §5.4); they fit the int16 events and
// revents fields of PollFd.
const (
	POLLERR    = 0x0001
	POLLHUP    = 0x0002
	POLLNVAL   = 0x0004
	POLLWRNORM = 0x0010
	POLLOUT    = POLLWRNORM
	POLLWRBAND = 0x0020
	POLLRDNORM = 0x0100
	POLLRDBAND = 0x0200
	POLLIN     = POLLRDNORM | POLLRDBAND
	POLLPRI    = 0x0400
)

// Name-space identifiers (ws2def.h NS_*, spec §6.13).
const (
	NS_ALL         = 0
	NS_SAP         = 1
	NS_NDS         = 2
	NS_PEER_BROWSE = 3
	NS_SLP         = 5
	NS_DHCP        = 6
	NS_TCPIP_LOCAL = 10
	NS_TCPIP_HOSTS = 11
	NS_DNS         = 12
	NS_NETBT       = 13
	NS_WINS        = 14
	NS_NLA         = 15
	NS_BTH         = 16
	NS_NBP         = 20
	NS_MS          = 30
	NS_STDA        = 31
	NS_NTDS        = 32
	NS_EMAIL       = 37
	NS_PNRPNAME    = 38
	NS_PNRPCLOUD   = 39
	NS_X500        = 40
	NS_NIS         = 41
	NS_NISPLUS     = 42
	NS_WRQ         = 50
	NS_NETDES      = 60
)

// WSALookupService* control flags (LUP_*, spec §6.14).
const (
	LUP_DEEP                   = 0x0001
	LUP_CONTAINERS             = 0x0002
	LUP_NOCONTAINERS           = 0x0004
	LUP_NEAREST                = 0x0008
	LUP_RETURN_NAME            = 0x0010
	LUP_RETURN_TYPE            = 0x0020
	LUP_RETURN_VERSION         = 0x0040
	LUP_RETURN_COMMENT         = 0x0080
	LUP_RETURN_ADDR            = 0x0100
	LUP_RETURN_BLOB            = 0x0200
	LUP_RETURN_ALIASES         = 0x0400
	LUP_RETURN_QUERY_STRING    = 0x0800
	LUP_RETURN_ALL             = 0x0FF0
	LUP_FLUSHCACHE             = 0x1000
	LUP_FLUSHPREVIOUS          = 0x2000
	LUP_NON_AUTHORITATIVE      = 0x4000
	LUP_SECURE                 = 0x8000
	LUP_RES_SERVICE            = 0x8000
	LUP_RETURN_PREFERRED_NAMES = 0x10000
	LUP_ADDRCONFIG             = 0x100000
	LUP_DUAL_ADDR              = 0x200000
	LUP_FILESERVER             = 0x400000
)

// getaddrinfo hint flags (AI_*, ws2def.h, spec §6.15).
const (
	AI_PASSIVE                = 0x00000001
	AI_CANONNAME              = 0x00000002
	AI_NUMERICHOST            = 0x00000004
	AI_NUMERICSERV            = 0x00000008
	AI_ALL                    = 0x00000100
	AI_ADDRCONFIG             = 0x00000400
	AI_V4MAPPED               = 0x00000800
	AI_NON_AUTHORITATIVE      = 0x00004000
	AI_SECURE                 = 0x00008000
	AI_RETURN_PREFERRED_NAMES = 0x00010000
	AI_FQDN                   = 0x00020000
	AI_FILESERVER             = 0x00040000
	AI_DISABLE_IDN_ENCODING   = 0x00080000
	AI_RESOLUTION_HANDLE      = 0x40000000
	AI_EXTENDED               = 0x80000000
)

// getnameinfo flags (NI_*, ws2def.h, spec §6.15).
const (
	NI_NOFQDN      = 0x01
	NI_NUMERICHOST = 0x02
	NI_NAMEREQD    = 0x04
	NI_NUMERICSERV = 0x08
	NI_DGRAM       = 0x10
)

// getaddrinfo/getnameinfo errors (ws2tcpip.h, spec §6.15). On Windows these
// are the WSA codes themselves; EAI_NODATA equals EAI_NONAME.
const (
	EAI_AGAIN        = WSATRY_AGAIN
	EAI_BADFLAGS     = WSAEINVAL
	EAI_FAIL         = WSANO_RECOVERY
	EAI_FAMILY       = WSAEAFNOSUPPORT
	EAI_MEMORY       = WSA_NOT_ENOUGH_MEMORY
	EAI_NONAME       = WSAHOST_NOT_FOUND
	EAI_NODATA       = EAI_NONAME
	EAI_SERVICE      = WSATYPE_NOT_FOUND
	EAI_SOCKTYPE     = WSAESOCKTNOSUPPORT
	EAI_NOSECURENAME = WSA_SECURE_HOST_NOT_FOUND
	EAI_IPSECPOLICY  = WSA_IPSEC_NAME_POLICY_ERROR
)

// Network event bit positions (FD_*_BIT), the indexes of
// NetworkEvents.ErrorCode (spec §5.1).
const (
	FD_READ_BIT                     = 0
	FD_WRITE_BIT                    = 1
	FD_OOB_BIT                      = 2
	FD_ACCEPT_BIT                   = 3
	FD_CONNECT_BIT                  = 4
	FD_CLOSE_BIT                    = 5
	FD_QOS_BIT                      = 6
	FD_GROUP_QOS_BIT                = 7
	FD_ROUTING_INTERFACE_CHANGE_BIT = 8
	FD_ADDRESS_LIST_CHANGE_BIT      = 9
	FD_MAX_EVENTS                   = 10
)

// Network events (FD_*, spec §5.1), for WSAEventSelect and WSAAsyncSelect.
const (
	FD_READ                     = 1 << FD_READ_BIT
	FD_WRITE                    = 1 << FD_WRITE_BIT
	FD_OOB                      = 1 << FD_OOB_BIT
	FD_ACCEPT                   = 1 << FD_ACCEPT_BIT
	FD_CONNECT                  = 1 << FD_CONNECT_BIT
	FD_CLOSE                    = 1 << FD_CLOSE_BIT
	FD_QOS                      = 1 << FD_QOS_BIT
	FD_GROUP_QOS                = 1 << FD_GROUP_QOS_BIT
	FD_ROUTING_INTERFACE_CHANGE = 1 << FD_ROUTING_INTERFACE_CHANGE_BIT
	FD_ADDRESS_LIST_CHANGE      = 1 << FD_ADDRESS_LIST_CHANGE_BIT
	FD_ALL_EVENTS               = 1<<FD_MAX_EVENTS - 1
)

// Service flags of ProtocolInfo.ServiceFlags1 (XP1_*, spec §4.2).
const (
	XP1_CONNECTIONLESS           = 0x00000001
	XP1_GUARANTEED_DELIVERY      = 0x00000002
	XP1_GUARANTEED_ORDER         = 0x00000004
	XP1_MESSAGE_ORIENTED         = 0x00000008
	XP1_PSEUDO_STREAM            = 0x00000010
	XP1_GRACEFUL_CLOSE           = 0x00000020
	XP1_EXPEDITED_DATA           = 0x00000040
	XP1_CONNECT_DATA             = 0x00000080
	XP1_DISCONNECT_DATA          = 0x00000100
	XP1_SUPPORT_BROADCAST        = 0x00000200
	XP1_SUPPORT_MULTIPOINT       = 0x00000400
	XP1_MULTIPOINT_CONTROL_PLANE = 0x00000800
	XP1_MULTIPOINT_DATA_PLANE    = 0x00001000
	XP1_QOS_SUPPORTED            = 0x00002000
	XP1_INTERRUPT                = 0x00004000
	XP1_UNI_SEND                 = 0x00008000
	XP1_UNI_RECV                 = 0x00010000
	XP1_IFS_HANDLES              = 0x00020000
	XP1_PARTIAL_MESSAGE          = 0x00040000
	XP1_SAN_SUPPORT_SDP          = 0x00080000
)

// Provider flags of ProtocolInfo.ProviderFlags (PFL_*, spec §4.3).
const (
	PFL_MULTIPLE_PROTO_ENTRIES  = 0x00000001
	PFL_RECOMMENDED_PROTO_ENTRY = 0x00000002
	PFL_HIDDEN                  = 0x00000004
	PFL_MATCHES_PROTOCOL_ZERO   = 0x00000008
	PFL_NETWORKDIRECT_PROVIDER  = 0x00000010
)

// WSASocket dwFlags (WSA_FLAG_*, spec §2.2).
const (
	WSA_FLAG_OVERLAPPED             = 0x01
	WSA_FLAG_MULTIPOINT_C_ROOT      = 0x02
	WSA_FLAG_MULTIPOINT_C_LEAF      = 0x04
	WSA_FLAG_MULTIPOINT_D_ROOT      = 0x08
	WSA_FLAG_MULTIPOINT_D_LEAF      = 0x10
	WSA_FLAG_ACCESS_SYSTEM_SECURITY = 0x40
	WSA_FLAG_NO_HANDLE_INHERIT      = 0x80
	WSA_FLAG_REGISTERED_IO          = 0x100
)

// TransmitFile, TransmitPackets and DisconnectEx flags (mswsock.h, spec
// §5.10); TP_* and DE_REUSE_SOCKET are the same values.
const (
	TF_DISCONNECT         = 0x01
	TF_REUSE_SOCKET       = 0x02
	TF_WRITE_BEHIND       = 0x04
	TF_USE_DEFAULT_WORKER = 0x00
	TF_USE_SYSTEM_THREAD  = 0x10
	TF_USE_KERNEL_APC     = 0x20

	TP_DISCONNECT         = TF_DISCONNECT
	TP_REUSE_SOCKET       = TF_REUSE_SOCKET
	TP_USE_DEFAULT_WORKER = TF_USE_DEFAULT_WORKER
	TP_USE_SYSTEM_THREAD  = TF_USE_SYSTEM_THREAD
	TP_USE_KERNEL_APC     = TF_USE_KERNEL_APC

	DE_REUSE_SOCKET = TF_REUSE_SOCKET
)

// TRANSMIT_PACKETS_ELEMENT dwElFlags (mswsock.h as in MinGW/Wine, spec §2.7;
// the ReactOS header swaps MEMORY and FILE).
const (
	TP_ELEMENT_MEMORY = 1
	TP_ELEMENT_FILE   = 2
	TP_ELEMENT_EOP    = 4
)

// SetFileCompletionNotificationModes flags (spec §2.6, §5.5).
const (
	FILE_SKIP_COMPLETION_PORT_ON_SUCCESS = 0x1
	FILE_SKIP_SET_EVENT_ON_HANDLE        = 0x2
)

// LSP categories (WSCSetProviderInfo ProviderInfoLspCategories, spec §3.5).
const (
	LSP_SYSTEM          = 0x80000000
	LSP_INSPECTOR       = 0x00000001
	LSP_REDIRECTOR      = 0x00000002
	LSP_PROXY           = 0x00000004
	LSP_FIREWALL        = 0x00000008
	LSP_INBOUND_MODIFY  = 0x00000010
	LSP_OUTBOUND_MODIFY = 0x00000020
	LSP_CRYPTO_COMPRESS = 0x00000040
	LSP_LOCAL_CACHE     = 0x00000080
)

// WSC_PROVIDER_INFO_TYPE values for WSCGetProviderInfo/WSCSetProviderInfo
// (spec §3.5).
const (
	ProviderInfoLspCategories = 0
	ProviderInfoAudit         = 1
)

// Socket groups for WSASocket's g (obsolete, spec §2.11).
const (
	SG_UNCONSTRAINED_GROUP = 0x01
	SG_CONSTRAINED_GROUP   = 0x02
)

// WSAJoinLeaf flags (obsolete, spec §2.11).
const (
	JL_SENDER_ONLY   = 0x01
	JL_RECEIVER_ONLY = 0x02
	JL_BOTH          = 0x04
)

// WSAQUERYSET dwOutputFlags (spec §2.9).
const (
	RESULT_IS_ALIAS   = 0x0001
	RESULT_IS_ADDED   = 0x0010
	RESULT_IS_CHANGED = 0x0020
	RESULT_IS_DELETED = 0x0040
)

// WSASetService operations (WSAESETSERVICEOP, spec §2.9).
const (
	RNRSERVICE_REGISTER   = 0
	RNRSERVICE_DEREGISTER = 1
	RNRSERVICE_DELETE     = 2
)

// WSACOMPLETION types for NSPIoctl(SIO_NSP_NOTIFY_CHANGE) (spec §3.7).
const (
	NSP_NOTIFY_IMMEDIATELY = 0
	NSP_NOTIFY_HWND        = 1
	NSP_NOTIFY_EVENT       = 2
	NSP_NOTIFY_PORT        = 3
	NSP_NOTIFY_APC         = 4
)

// makelong is MAKELONG(lo, hi): the low 16 bits of each, hi in the high word.
func makelong(lo, hi uint32) uint32 { return lo&0xffff | (hi&0xffff)<<16 }

// WSAMAKESELECTREPLY builds the lParam of a WSAAsyncSelect message:
// MAKELONG(event, error). Only the low 16 bits of each argument are used.
func WSAMAKESELECTREPLY(event, errcode uint32) uint32 { return makelong(event, errcode) }

// WSAGETSELECTEVENT returns the FD_* event of a WSAAsyncSelect lParam
// (LOWORD).
func WSAGETSELECTEVENT(lParam uint32) uint16 { return uint16(lParam) }

// WSAGETSELECTERROR returns the error code of a WSAAsyncSelect lParam
// (HIWORD).
func WSAGETSELECTERROR(lParam uint32) uint16 { return uint16(lParam >> 16) }

// WSAMAKEASYNCREPLY builds the lParam of a WSAAsyncGetXByY reply:
// MAKELONG(buflen, error). Only the low 16 bits of each argument are used.
func WSAMAKEASYNCREPLY(buflen, errcode uint32) uint32 { return makelong(buflen, errcode) }

// WSAGETASYNCBUFLEN returns the buffer length of a WSAAsyncGetXByY lParam
// (LOWORD).
func WSAGETASYNCBUFLEN(lParam uint32) uint16 { return uint16(lParam) }

// WSAGETASYNCERROR returns the error code of a WSAAsyncGetXByY lParam
// (HIWORD).
func WSAGETASYNCERROR(lParam uint32) uint16 { return uint16(lParam >> 16) }
