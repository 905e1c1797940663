//go:build linux

package tun

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"
)

// nlErrPayload builds the payload of an NLMSG_ERROR message: the error
// code, the echoed request header (and body unless capped), then TLVs.
func nlErrPayload(code int32, origBody []byte, capped bool, tlvs []byte) []byte {
	b := binary.NativeEndian.AppendUint32(nil, uint32(code))
	b = binary.NativeEndian.AppendUint32(b, uint32(unix.SizeofNlMsghdr+len(origBody)))
	b = binary.NativeEndian.AppendUint16(b, unix.RTM_NEWADDR)
	b = binary.NativeEndian.AppendUint16(b, unix.NLM_F_REQUEST|unix.NLM_F_ACK)
	b = binary.NativeEndian.AppendUint32(b, 7)
	b = binary.NativeEndian.AppendUint32(b, 0)
	if !capped {
		b = append(b, origBody...)
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
	}
	return append(b, tlvs...)
}

func TestParseNetlinkError(t *testing.T) {
	msg := appendAttr(nil, unix.NLMSGERR_ATTR_MSG, []byte("Invalid prefix\x00"))
	body := []byte{1, 2, 3, 4, 5} // odd length: padded in the echo
	tests := []struct {
		name      string
		flags     uint16
		data      []byte
		wantNil   bool
		wantErrno unix.Errno
		wantMsg   string
	}{
		{"ack", 0, nlErrPayload(0, body, false, nil), true, 0, ""},
		{"plain errno", 0, nlErrPayload(-int32(unix.EEXIST), body, false, nil), false, unix.EEXIST, ""},
		{"capped with message", unix.NLM_F_CAPPED | unix.NLM_F_ACK_TLVS, nlErrPayload(-int32(unix.EINVAL), body, true, msg), false, unix.EINVAL, "Invalid prefix"},
		{"uncapped with message", unix.NLM_F_ACK_TLVS, nlErrPayload(-int32(unix.ENODEV), body, false, msg), false, unix.ENODEV, "Invalid prefix"},
		{"TLV flag but no TLVs", unix.NLM_F_CAPPED | unix.NLM_F_ACK_TLVS, nlErrPayload(-int32(unix.EPERM), body, true, nil), false, unix.EPERM, ""},
		{"short", 0, []byte{1, 2}, false, unix.EPROTO, "short NLMSG_ERROR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := parseNetlinkError("RTM_NEWADDR", tt.flags, tt.data)
			if tt.wantNil {
				if err != nil {
					t.Fatalf("got %v, want nil", err)
				}
				return
			}
			var ne *NetlinkError
			if !errors.As(err, &ne) {
				t.Fatalf("got %T %v, want *NetlinkError", err, err)
			}
			if ne.Errno != tt.wantErrno || ne.Msg != tt.wantMsg {
				t.Fatalf("got errno %v msg %q, want %v %q", ne.Errno, ne.Msg, tt.wantErrno, tt.wantMsg)
			}
			if !errors.Is(err, tt.wantErrno) {
				t.Fatalf("errors.Is(%v, %v) = false", err, tt.wantErrno)
			}
		})
	}
}

func TestParseAttrs(t *testing.T) {
	var b []byte
	b = appendAttr(b, 1, []byte("abc"))
	b = appendAttr(b, 2|unix.NLA_F_NESTED, appendAttr(nil, 3, []byte{9}))
	b = appendAttr(b, 4, nil)
	got := parseAttrs(b)
	if len(got) != 3 || got[0].typ != 1 || string(got[0].data) != "abc" || got[1].typ != 2 || got[2].typ != 4 || len(got[2].data) != 0 {
		t.Fatalf("parseAttrs = %+v", got)
	}
	nested := parseAttrs(got[1].data)
	if len(nested) != 1 || nested[0].typ != 3 || nested[0].data[0] != 9 {
		t.Fatalf("nested = %+v", nested)
	}
	// Truncated input stops cleanly.
	if got := parseAttrs(b[:5]); len(got) != 0 {
		t.Fatalf("truncated: %+v", got)
	}
	if got := parseAttrs([]byte{2, 0, 1, 0}); len(got) != 0 { // length < header
		t.Fatalf("bad length: %+v", got)
	}
}

func TestParseMessages(t *testing.T) {
	msg := func(typ uint16, seq uint32, data []byte) []byte {
		b := binary.NativeEndian.AppendUint32(nil, uint32(unix.SizeofNlMsghdr+len(data)))
		b = binary.NativeEndian.AppendUint16(b, typ)
		b = binary.NativeEndian.AppendUint16(b, 0)
		b = binary.NativeEndian.AppendUint32(b, seq)
		b = binary.NativeEndian.AppendUint32(b, 0)
		b = append(b, data...)
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
		return b
	}
	b := append(msg(unix.RTM_NEWLINK, 1, []byte{1, 2, 3}), msg(unix.NLMSG_DONE, 1, nil)...)
	got, err := parseMessages(b)
	if err != nil || len(got) != 2 || got[0].Type != unix.RTM_NEWLINK || len(got[0].Data) != 3 || got[1].Type != unix.NLMSG_DONE {
		t.Fatalf("parseMessages = %+v, %v", got, err)
	}
	bad := msg(unix.RTM_NEWLINK, 1, nil)
	binary.NativeEndian.PutUint32(bad, 1000)
	if _, err := parseMessages(bad); err == nil {
		t.Fatal("parseMessages accepted a length past the buffer")
	}
}

func TestIfAddrMsg(t *testing.T) {
	tests := []struct {
		p       string
		family  uint8
		addrLen int
		wantErr bool
	}{
		{"192.0.2.1/24", unix.AF_INET, 4, false},
		{"2001:db8::1/64", unix.AF_INET6, 16, false},
		{"::ffff:192.0.2.1/120", 0, 0, true},
	}
	for _, tt := range tests {
		p := netip.MustParsePrefix(tt.p)
		b, err := ifAddrMsg(3, p)
		if (err != nil) != tt.wantErr {
			t.Fatalf("ifAddrMsg(%v) error = %v, want error %v", p, err, tt.wantErr)
		}
		if err != nil {
			continue
		}
		if b[0] != tt.family || int(b[1]) != p.Bits() || binary.NativeEndian.Uint32(b[4:8]) != 3 {
			t.Fatalf("ifAddrMsg(%v) header = %v", p, b[:8])
		}
		attrs := parseAttrs(b[unix.SizeofIfAddrmsg:])
		if len(attrs) != 2 || attrs[0].typ != unix.IFA_LOCAL || attrs[1].typ != unix.IFA_ADDRESS || len(attrs[0].data) != tt.addrLen {
			t.Fatalf("ifAddrMsg(%v) attrs = %+v", p, attrs)
		}
	}
	if _, err := ifAddrMsg(1, netip.Prefix{}); err == nil {
		t.Fatal("ifAddrMsg accepted the zero prefix")
	}
}

// FuzzNetlinkParse feeds arbitrary bytes to every netlink decoder: none may
// panic, whatever the kernel (or a bug) sends.
func FuzzNetlinkParse(f *testing.F) {
	f.Add(nlErrPayload(-int32(unix.EINVAL), []byte{1, 2, 3}, true, appendAttr(nil, unix.NLMSGERR_ATTR_MSG, []byte("x\x00"))), uint16(unix.NLM_F_CAPPED|unix.NLM_F_ACK_TLVS))
	f.Add(nlErrPayload(-int32(unix.EEXIST), []byte{1, 2, 3}, false, nil), uint16(unix.NLM_F_ACK_TLVS))
	f.Add(appendAttr(make([]byte, unix.SizeofIfInfomsg), unix.IFLA_IFNAME, []byte("lo\x00")), uint16(0))
	f.Fuzz(func(t *testing.T, b []byte, flags uint16) {
		parseNetlinkError("RTM_NEWLINK", flags, b)
		parseAttrs(b)
		if msgs, err := parseMessages(b); err == nil {
			for _, m := range msgs {
				if len(m.Data) >= unix.SizeofIfInfomsg {
					parseLink(m.Data)
				}
			}
		}
		if len(b) >= unix.SizeofIfInfomsg {
			parseLink(b)
		}
	})
}
