package api_test

import (
	"bytes"
	"testing"

	"github.com/ws2go/ws2/api"
	"github.com/ws2go/ws2/wsa"
)

func TestConversions(t *testing.T) {
	if api.Htons(0x1234) != 0x3412 || api.Ntohs(0x3412) != 0x1234 ||
		api.Htonl(wsa.INADDR_LOOPBACK) != 0x0100007f || api.Ntohl(0x0100007f) != wsa.INADDR_LOOPBACK {
		t.Error("byte order")
	}
	// inet_pton's 1 / 0 / -1.
	pton := []struct {
		af   int32
		in   string
		want []byte
		err  error
	}{
		{wsa.AF_INET, "127.0.0.1", []byte{127, 0, 0, 1}, nil},
		{wsa.AF_INET, "127.1", nil, wsa.WSAEINVAL},
		{wsa.AF_INET6, "::1", append(make([]byte, 15), 1), nil},
		{wsa.AF_INET6, "1.2.3.4", nil, wsa.WSAEINVAL},
		{wsa.AF_IRDA, "1.2.3.4", nil, wsa.WSAEAFNOSUPPORT},
	}
	for _, tt := range pton {
		got, err := api.InetPton(tt.af, tt.in)
		wantErr(t, "InetPton "+tt.in, err, tt.err)
		if !bytes.Equal(got, tt.want) {
			t.Errorf("InetPton(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
	if s, err := api.InetNtop(wsa.AF_INET, []byte{10, 0, 0, 1}); s != "10.0.0.1" || err != nil {
		t.Errorf("InetNtop = %q, %v", s, err)
	}
	_, err := api.InetNtop(wsa.AF_INET6, []byte{1, 2, 3, 4})
	wantErr(t, "InetNtop short", err, wsa.WSAEFAULT)
	_, err = api.InetNtop(wsa.AF_UNSPEC, []byte{1, 2, 3, 4})
	wantErr(t, "InetNtop family", err, wsa.WSAEAFNOSUPPORT)

	if a, err := api.InetAddr("127.1"); a != wsa.INADDR_LOOPBACK || err != nil {
		t.Errorf("InetAddr(127.1) = %#x, %v", a, err)
	}
	if a, err := api.InetAddr("nope"); a != wsa.INADDR_NONE || err != wsa.WSAEINVAL {
		t.Errorf("InetAddr(nope) = %#x, %v", a, err)
	}
	if a, err := api.InetAddr("255.255.255.255"); a != wsa.INADDR_NONE || err != nil {
		t.Errorf("InetAddr(broadcast) = %#x, %v", a, err)
	}
	if s := api.InetNtoa([4]byte{192, 168, 0, 1}); s != "192.168.0.1" {
		t.Errorf("InetNtoa = %q", s)
	}
}
