//go:build linux

package tun

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// NetlinkError is an error the kernel reported in an NLMSG_ERROR reply to an
// rtnetlink request. It unwraps to the errno, so errors.Is(err, unix.EEXIST)
// works; Msg carries the kernel's extended-ack text when it sent one.
type NetlinkError struct {
	Op    string     // request, e.g. "RTM_NEWADDR"
	Errno unix.Errno // the negated error field of struct nlmsgerr
	Msg   string     // NLMSGERR_ATTR_MSG, or "" if the kernel gave none
}

// Error implements error.
func (e *NetlinkError) Error() string {
	s := "netlink " + e.Op + ": " + e.Errno.Error()
	if e.Msg != "" {
		s += " (" + e.Msg + ")"
	}
	return s
}

// Unwrap returns the errno.
func (e *NetlinkError) Unwrap() error { return e.Errno }

// netlinkTimeout bounds how long a request waits for the kernel's answer.
// rtnetlink answers synchronously, so hitting it means something is badly
// wrong; it only keeps a caller from hanging forever.
const netlinkTimeout = 10 * time.Second

var netlinkSeq atomic.Uint32

// nlAlign rounds n up to the netlink alignment (4 bytes).
func nlAlign(n int) int { return (n + unix.NLMSG_ALIGNTO - 1) &^ (unix.NLMSG_ALIGNTO - 1) }

// appendAttr appends one route attribute (struct rtattr + data, padded).
func appendAttr(b []byte, typ uint16, data []byte) []byte {
	b = binary.NativeEndian.AppendUint16(b, uint16(unix.SizeofRtAttr+len(data)))
	b = binary.NativeEndian.AppendUint16(b, typ)
	b = append(b, data...)
	for len(b)%unix.NLMSG_ALIGNTO != 0 {
		b = append(b, 0)
	}
	return b
}

// attr is one parsed route attribute.
type attr struct {
	typ  uint16 // with NLA_F_NESTED and NLA_F_NET_BYTEORDER cleared
	data []byte
}

// parseAttrs splits b into route attributes. It stops at the first
// malformed one.
func parseAttrs(b []byte) []attr {
	var out []attr
	for len(b) >= unix.SizeofRtAttr {
		l := int(binary.NativeEndian.Uint16(b[0:2]))
		t := binary.NativeEndian.Uint16(b[2:4])
		if l < unix.SizeofRtAttr || l > len(b) {
			break
		}
		out = append(out, attr{typ: t &^ (unix.NLA_F_NESTED | unix.NLA_F_NET_BYTEORDER), data: b[unix.SizeofRtAttr:l]})
		if nlAlign(l) > len(b) {
			break
		}
		b = b[nlAlign(l):]
	}
	return out
}

// cString returns the bytes of b up to the first NUL.
func cString(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// parseNetlinkError decodes the payload of an NLMSG_ERROR message. It
// returns nil for an acknowledgement (error field 0). flags are the flags of
// the NLMSG_ERROR message itself (NLM_F_CAPPED, NLM_F_ACK_TLVS).
func parseNetlinkError(op string, flags uint16, data []byte) error {
	if len(data) < 4 {
		return &NetlinkError{Op: op, Errno: unix.EPROTO, Msg: "short NLMSG_ERROR"}
	}
	code := int32(binary.NativeEndian.Uint32(data[0:4]))
	if code == 0 {
		return nil
	}
	e := &NetlinkError{Op: op, Errno: unix.Errno(-code)}
	if flags&unix.NLM_F_ACK_TLVS == 0 {
		return e
	}
	// struct nlmsgerr: int error; struct nlmsghdr msg; then the rest of the
	// offending request unless the reply is capped; then the TLVs.
	off := 4 + unix.SizeofNlMsghdr
	if flags&unix.NLM_F_CAPPED == 0 && len(data) >= off {
		origLen := int(binary.NativeEndian.Uint32(data[4:8]))
		off = 4 + nlAlign(origLen)
	}
	if off > len(data) {
		return e
	}
	for _, a := range parseAttrs(data[off:]) {
		if a.typ == unix.NLMSGERR_ATTR_MSG {
			e.Msg = cString(a.data)
		}
	}
	return e
}

// nlMessage is one parsed netlink message.
type nlMessage struct {
	Type  uint16
	Flags uint16
	Seq   uint32
	Data  []byte // payload after struct nlmsghdr; aliases the input
}

// parseMessages splits b into netlink messages.
func parseMessages(b []byte) ([]nlMessage, error) {
	var out []nlMessage
	for len(b) >= unix.SizeofNlMsghdr {
		l := int(binary.NativeEndian.Uint32(b[0:4]))
		if l < unix.SizeofNlMsghdr || l > len(b) {
			return out, fmt.Errorf("bad netlink message length %d (%d bytes left)", l, len(b))
		}
		out = append(out, nlMessage{
			Type:  binary.NativeEndian.Uint16(b[4:6]),
			Flags: binary.NativeEndian.Uint16(b[6:8]),
			Seq:   binary.NativeEndian.Uint32(b[8:12]),
			Data:  b[unix.SizeofNlMsghdr:l],
		})
		if nlAlign(l) >= len(b) {
			break
		}
		b = b[nlAlign(l):]
	}
	return out, nil
}

// netlinkRequest sends one rtnetlink request and collects the answer.
//
// For a plain request it sets NLM_F_ACK and waits for the kernel's
// acknowledgement, returning the messages that came before it (a GET reply)
// or the decoded *NetlinkError. For a dump (flags include NLM_F_DUMP) it
// returns every message up to NLMSG_DONE. It opens a socket per call: these
// are configuration calls, not a hot path, and a private socket cannot
// receive anyone else's answers. The socket lives in the calling thread's
// network namespace.
func netlinkRequest(op string, typ, flags uint16, body []byte) ([]nlMessage, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("netlink %s: socket: %w", op, err)
	}
	defer unix.Close(fd)
	// Best effort: ask for error text, and for errors that do not echo the
	// whole request back.
	_ = unix.SetsockoptInt(fd, unix.SOL_NETLINK, unix.NETLINK_EXT_ACK, 1)
	_ = unix.SetsockoptInt(fd, unix.SOL_NETLINK, unix.NETLINK_CAP_ACK, 1)
	tv := unix.NsecToTimeval(netlinkTimeout.Nanoseconds())
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		return nil, fmt.Errorf("netlink %s: SO_RCVTIMEO: %w", op, err)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return nil, fmt.Errorf("netlink %s: bind: %w", op, err)
	}

	dump := flags&unix.NLM_F_DUMP == unix.NLM_F_DUMP
	flags |= unix.NLM_F_REQUEST
	if !dump {
		flags |= unix.NLM_F_ACK
	}
	seq := netlinkSeq.Add(1)
	msg := make([]byte, 0, unix.SizeofNlMsghdr+len(body))
	msg = binary.NativeEndian.AppendUint32(msg, uint32(unix.SizeofNlMsghdr+len(body)))
	msg = binary.NativeEndian.AppendUint16(msg, typ)
	msg = binary.NativeEndian.AppendUint16(msg, flags)
	msg = binary.NativeEndian.AppendUint32(msg, seq)
	msg = binary.NativeEndian.AppendUint32(msg, 0)
	msg = append(msg, body...)
	if err := unix.Sendto(fd, msg, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return nil, fmt.Errorf("netlink %s: send: %w", op, err)
	}

	var out []nlMessage
	buf := make([]byte, 64<<10)
	for {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("netlink %s: receive: %w", op, err)
		}
		msgs, err := parseMessages(buf[:n])
		if err != nil {
			return nil, fmt.Errorf("netlink %s: parse reply: %w", op, err)
		}
		for _, m := range msgs {
			if m.Seq != seq {
				continue
			}
			switch m.Type {
			case unix.NLMSG_ERROR:
				if err := parseNetlinkError(op, m.Flags, m.Data); err != nil {
					return nil, err
				}
				return out, nil
			case unix.NLMSG_DONE:
				return out, nil
			default:
				// Data aliases buf, which the next receive overwrites.
				m.Data = append([]byte(nil), m.Data...)
				out = append(out, m)
			}
		}
	}
}

// ifInfoMsg encodes a struct ifinfomsg.
func ifInfoMsg(index int32, flags, change uint32) []byte {
	b := make([]byte, unix.SizeofIfInfomsg)
	b[0] = unix.AF_UNSPEC
	binary.NativeEndian.PutUint32(b[4:8], uint32(index))
	binary.NativeEndian.PutUint32(b[8:12], flags)
	binary.NativeEndian.PutUint32(b[12:16], change)
	return b
}

// setLinkMTU sets the MTU of interface index.
func setLinkMTU(index int, mtu int) error {
	body := ifInfoMsg(int32(index), 0, 0)
	body = appendAttr(body, unix.IFLA_MTU, binary.NativeEndian.AppendUint32(nil, uint32(mtu)))
	_, err := netlinkRequest("RTM_NEWLINK", unix.RTM_NEWLINK, 0, body)
	return err
}

// setLinkGSOMaxSegs sets the largest number of segments the kernel puts in
// one GSO packet it sends through interface index (gso_max_segs). Kernels
// before 5.19 accept the attribute on RTM_NEWLINK but ignore it.
func setLinkGSOMaxSegs(index int, segs int) error {
	body := ifInfoMsg(int32(index), 0, 0)
	body = appendAttr(body, unix.IFLA_GSO_MAX_SEGS, binary.NativeEndian.AppendUint32(nil, uint32(segs)))
	_, err := netlinkRequest("RTM_NEWLINK", unix.RTM_NEWLINK, 0, body)
	return err
}

// setLinkUp sets or clears IFF_UP on interface index.
func setLinkUp(index int, up bool) error {
	var flags uint32
	if up {
		flags = unix.IFF_UP
	}
	_, err := netlinkRequest("RTM_NEWLINK", unix.RTM_NEWLINK, 0, ifInfoMsg(int32(index), flags, unix.IFF_UP))
	return err
}

// ifAddrMsg encodes a struct ifaddrmsg followed by IFA_LOCAL and IFA_ADDRESS
// for p, as ip-address(8) does for a non point-to-point address.
func ifAddrMsg(index int, p netip.Prefix) ([]byte, error) {
	if !p.IsValid() {
		return nil, fmt.Errorf("invalid prefix %v", p)
	}
	a := p.Addr()
	if a.Is4In6() {
		return nil, fmt.Errorf("prefix %v: IPv4-mapped IPv6 address", p)
	}
	family := uint8(unix.AF_INET6)
	if a.Is4() {
		family = unix.AF_INET
	}
	b := make([]byte, unix.SizeofIfAddrmsg)
	b[0] = family
	b[1] = uint8(p.Bits())
	b[2] = 0 // ifa_flags
	b[3] = unix.RT_SCOPE_UNIVERSE
	binary.NativeEndian.PutUint32(b[4:8], uint32(index))
	raw := a.AsSlice()
	b = appendAttr(b, unix.IFA_LOCAL, raw)
	b = appendAttr(b, unix.IFA_ADDRESS, raw)
	return b, nil
}

// addAddress assigns p to interface index. Assigning an address the
// interface already has fails with EEXIST.
func addAddress(index int, p netip.Prefix) error {
	body, err := ifAddrMsg(index, p)
	if err != nil {
		return fmt.Errorf("netlink RTM_NEWADDR: %w", err)
	}
	_, err = netlinkRequest("RTM_NEWADDR", unix.RTM_NEWADDR, unix.NLM_F_CREATE|unix.NLM_F_EXCL, body)
	return err
}

// linkInfo is what linkByName reads back about an interface.
type linkInfo struct {
	Index      int
	Name       string
	MTU        int
	Flags      uint32 // IFF_* flags (ifi_flags)
	Kind       string // IFLA_INFO_KIND: "tun", "veth", …; "" for lo and physical NICs
	GSOMaxSegs int    // IFLA_GSO_MAX_SEGS; 0 if the kernel did not say
	TUN        tunInfo
}

// tunInfo is the TUN driver's part of a link (IFLA_INFO_DATA of kind
// "tun", Linux 4.15 and later); all zero for other kinds or older kernels.
type tunInfo struct {
	VnetHdr    bool // IFLA_TUN_VNET_HDR: queues carry a virtio-net header
	MultiQueue bool // IFLA_TUN_MULTI_QUEUE
	Queues     int  // IFLA_TUN_NUM_QUEUES + IFLA_TUN_NUM_DISABLED_QUEUES: attached descriptors (multi-queue devices only; 0 otherwise)
}

// linkByName reads an interface's state with RTM_GETLINK. A missing
// interface is reported as ENODEV.
func linkByName(name string) (linkInfo, error) {
	body := ifInfoMsg(0, 0, 0)
	body = appendAttr(body, unix.IFLA_IFNAME, append([]byte(name), 0))
	msgs, err := netlinkRequest("RTM_GETLINK", unix.RTM_GETLINK, 0, body)
	if err != nil {
		return linkInfo{}, err
	}
	for _, m := range msgs {
		if m.Type != unix.RTM_NEWLINK || len(m.Data) < unix.SizeofIfInfomsg {
			continue
		}
		return parseLink(m.Data), nil
	}
	return linkInfo{}, &NetlinkError{Op: "RTM_GETLINK", Errno: unix.ENODEV, Msg: "no RTM_NEWLINK in reply"}
}

// parseLink decodes the payload of an RTM_NEWLINK message.
func parseLink(data []byte) linkInfo {
	li := linkInfo{
		Index: int(int32(binary.NativeEndian.Uint32(data[4:8]))),
		Flags: binary.NativeEndian.Uint32(data[8:12]),
	}
	for _, a := range parseAttrs(data[unix.SizeofIfInfomsg:]) {
		switch a.typ {
		case unix.IFLA_IFNAME:
			li.Name = cString(a.data)
		case unix.IFLA_MTU:
			if len(a.data) >= 4 {
				li.MTU = int(binary.NativeEndian.Uint32(a.data))
			}
		case unix.IFLA_GSO_MAX_SEGS:
			if len(a.data) >= 4 {
				li.GSOMaxSegs = int(binary.NativeEndian.Uint32(a.data))
			}
		case unix.IFLA_LINKINFO:
			var data []byte
			for _, n := range parseAttrs(a.data) {
				switch n.typ {
				case unix.IFLA_INFO_KIND:
					li.Kind = cString(n.data)
				case unix.IFLA_INFO_DATA:
					data = n.data
				}
			}
			if li.Kind == "tun" {
				li.TUN = parseTUNInfo(data)
			}
		}
	}
	return li
}

// parseTUNInfo decodes the IFLA_INFO_DATA attributes of a TUN link.
func parseTUNInfo(data []byte) tunInfo {
	var ti tunInfo
	for _, a := range parseAttrs(data) {
		switch a.typ {
		case unix.IFLA_TUN_VNET_HDR:
			ti.VnetHdr = len(a.data) >= 1 && a.data[0] != 0
		case unix.IFLA_TUN_MULTI_QUEUE:
			ti.MultiQueue = len(a.data) >= 1 && a.data[0] != 0
		case unix.IFLA_TUN_NUM_QUEUES, unix.IFLA_TUN_NUM_DISABLED_QUEUES:
			if len(a.data) >= 4 {
				ti.Queues += int(binary.NativeEndian.Uint32(a.data))
			}
		}
	}
	return ti
}

// addresses dumps the addresses assigned to interface index (both
// families), as prefixes.
func addresses(index int) ([]netip.Prefix, error) {
	msgs, err := netlinkRequest("RTM_GETADDR", unix.RTM_GETADDR, unix.NLM_F_DUMP, make([]byte, unix.SizeofIfAddrmsg))
	if err != nil {
		return nil, err
	}
	var out []netip.Prefix
	for _, m := range msgs {
		if m.Type != unix.RTM_NEWADDR || len(m.Data) < unix.SizeofIfAddrmsg {
			continue
		}
		if int(binary.NativeEndian.Uint32(m.Data[4:8])) != index {
			continue
		}
		bits := int(m.Data[1])
		var local, address []byte
		for _, a := range parseAttrs(m.Data[unix.SizeofIfAddrmsg:]) {
			switch a.typ {
			case unix.IFA_LOCAL:
				local = a.data
			case unix.IFA_ADDRESS:
				address = a.data
			}
		}
		if local == nil {
			local = address
		}
		if addr, ok := netip.AddrFromSlice(local); ok {
			out = append(out, netip.PrefixFrom(addr, bits))
		}
	}
	return out, nil
}
