package wsa

import (
	"bytes"
	"testing"
)

func TestGUIDValues(t *testing.T) {
	for _, c := range []struct {
		name string
		g    GUID
		want string
	}{
		{"WSAID_TRANSMITFILE", WSAID_TRANSMITFILE, "{B5367DF0-CBAC-11CF-95CA-00805F48A192}"},
		{"WSAID_ACCEPTEX", WSAID_ACCEPTEX, "{B5367DF1-CBAC-11CF-95CA-00805F48A192}"},
		{"WSAID_GETACCEPTEXSOCKADDRS", WSAID_GETACCEPTEXSOCKADDRS, "{B5367DF2-CBAC-11CF-95CA-00805F48A192}"},
		{"WSAID_TRANSMITPACKETS", WSAID_TRANSMITPACKETS, "{D9689DA0-1F90-11D3-9971-00C04F68C876}"},
		{"WSAID_CONNECTEX", WSAID_CONNECTEX, "{25A207B9-DDF3-4660-8EE9-76E58C74063E}"},
		{"WSAID_DISCONNECTEX", WSAID_DISCONNECTEX, "{7FDA2E11-8630-436F-A031-F536A6EEC157}"},
		{"WSAID_WSARECVMSG", WSAID_WSARECVMSG, "{F689D7C8-6F1F-436B-8A53-E54FE351C322}"},
		{"WSAID_WSASENDMSG", WSAID_WSASENDMSG, "{A441E712-754F-43CA-84A7-0DEE44CF606D}"},
		{"WSAID_MULTIPLE_RIO", WSAID_MULTIPLE_RIO, "{8509E081-96DD-4005-B165-9E2EE8C79E3F}"},
		{"MSAFD_TCPIP_PROVIDER_ID", MSAFD_TCPIP_PROVIDER_ID, "{E70F1AA0-AB8B-11CF-8CA3-00805F48A192}"},
		{"MSAFD_TCPIP6_PROVIDER_ID", MSAFD_TCPIP6_PROVIDER_ID, "{F9EAB0C0-26D4-11D0-BBBF-00AA006C34E4}"},
		{"NSPROVIDER_TCPIP", NSPROVIDER_TCPIP, "{22059D40-7E9E-11CF-AE5A-00AA00A7112B}"},
		{"NLA_NAMESPACE_GUID", NLA_NAMESPACE_GUID, "{6642243A-3BA8-4AA6-BAA5-2E0BD71FDD83}"},
		{"SVCID_HOSTNAME", SVCID_HOSTNAME, "{0002A800-0000-0000-C000-000000000046}"},
		{"SVCID_INET_HOSTADDRBYINETSTRING", SVCID_INET_HOSTADDRBYINETSTRING, "{0002A801-0000-0000-C000-000000000046}"},
		{"SVCID_INET_SERVICEBYNAME", SVCID_INET_SERVICEBYNAME, "{0002A802-0000-0000-C000-000000000046}"},
		{"SVCID_INET_HOSTADDRBYNAME", SVCID_INET_HOSTADDRBYNAME, "{0002A803-0000-0000-C000-000000000046}"},
		{"SVCID_TCP(80)", SVCID_TCP(80), "{00090050-0000-0000-C000-000000000046}"},
		{"SVCID_UDP(53)", SVCID_UDP(53), "{000A0035-0000-0000-C000-000000000046}"},
		{"SVCID_DNS(28)", SVCID_DNS(28), "{00090035-0000-001C-C000-000000000046}"},
	} {
		if got := c.g.String(); got != c.want {
			t.Errorf("%s = %s, want %s", c.name, got, c.want)
		}
		p, err := ParseGUID(c.want)
		if err != nil || p != c.g {
			t.Errorf("ParseGUID(%s) = %v, %v", c.want, p, err)
		}
		var b [SizeofGUID]byte
		if err := c.g.Marshal(b[:]); err != nil {
			t.Fatal(err)
		}
		u, err := UnmarshalGUID(b[:])
		if err != nil || u != c.g {
			t.Errorf("%s binary round trip = %v, %v", c.name, u, err)
		}
	}
	// Binary layout: Data1..3 little-endian.
	var b [SizeofGUID]byte
	_ = WSAID_ACCEPTEX.Marshal(b[:])
	want := []byte{0xf1, 0x7d, 0x36, 0xb5, 0xac, 0xcb, 0xcf, 0x11, 0x95, 0xca, 0x00, 0x80, 0x5f, 0x48, 0xa1, 0x92}
	if !bytes.Equal(b[:], want) {
		t.Errorf("WSAID_ACCEPTEX bytes = % x", b)
	}
	if err := WSAID_ACCEPTEX.Marshal(b[:15]); err != WSAEFAULT {
		t.Errorf("short Marshal = %v", err)
	}
	if _, err := UnmarshalGUID(b[:15]); err != WSAEFAULT {
		t.Errorf("short UnmarshalGUID = %v", err)
	}
	for _, bad := range []string{"", "{B5367DF1-CBAC-11CF-95CA-00805F48A19}", "B5367DF1xCBAC-11CF-95CA-00805F48A192", "{G5367DF1-CBAC-11CF-95CA-00805F48A192}"} {
		if _, err := ParseGUID(bad); err != WSAEINVAL {
			t.Errorf("ParseGUID(%q) err = %v", bad, err)
		}
	}
	if g, err := ParseGUID("b5367df1-cbac-11cf-95ca-00805f48a192"); err != nil || g != WSAID_ACCEPTEX {
		t.Errorf("lower case, no braces: %v %v", g, err)
	}
}

func TestSVCIDHelpers(t *testing.T) {
	g := SVCID_TCP_RR(8080, 33)
	if !IS_SVCID_TCP(g) || IS_SVCID_UDP(g) || IS_SVCID_DNS(g) || PORT_FROM_SVCID_TCP(g) != 8080 || RR_FROM_SVCID(g) != 33 {
		t.Errorf("TCP helpers on %v", g)
	}
	u := SVCID_UDP_RR(514, 0)
	if !IS_SVCID_UDP(u) || IS_SVCID_TCP(u) || PORT_FROM_SVCID_UDP(u) != 514 {
		t.Errorf("UDP helpers on %v", u)
	}
	if d := SVCID_DNS(1); !IS_SVCID_DNS(d) || !IS_SVCID_TCP(d) || RR_FROM_SVCID(d) != 1 {
		t.Errorf("DNS helpers on %v", d)
	}
	if IS_SVCID_TCP(SVCID_HOSTNAME) {
		t.Error("SVCID_HOSTNAME is not a TCP service class")
	}
}
