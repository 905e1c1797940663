package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/ws2go/ws2/api"
	"github.com/ws2go/ws2/wsa"
)

// TestCatalogs runs the program over each catalog: the same exchange,
// whatever provides the protocols.
func TestCatalogs(t *testing.T) {
	for _, name := range Catalogs {
		t.Run(name, func(t *testing.T) {
			var traceLog bytes.Buffer
			cat, done, err := NewCatalog(name, &traceLog)
			if err != nil {
				t.Fatal(err)
			}
			defer done()
			s, err := api.WSAStartup(wsa.WINSOCK_VERSION, cat)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			err = Run(&out, s)
			if cerr := s.WSACleanup(); err == nil {
				err = cerr
			}
			if err != nil {
				t.Fatalf("%v\n%s", err, out.String())
			}
			lines := strings.Split(strings.TrimSpace(out.String()), "\n")
			if len(lines) != 2 {
				t.Fatalf("output:\n%s", out.String())
			}
			msg := len("hello, protocol independence")
			stream, dgram := names[name].stream, names[name].dgram
			for i, want := range []string{
				fmt.Sprintf("stream: %q (af 2, type 1, protocol 6, chain length %d): %d bytes echoed", stream, chainLen(name), msg),
				fmt.Sprintf("datagram: %q (af 2, type 2, protocol 17, chain length %d): %d bytes echoed", dgram, chainLen(name), msg),
			} {
				if lines[i] != want {
					t.Errorf("line %d:\n got %s\nwant %s", i+1, lines[i], want)
				}
			}
			if strings.HasSuffix(name, "chain") && !strings.Contains(traceLog.String(), "msg=WSPSendTo") {
				t.Errorf("the exchange did not go through the trace layer:\n%s", traceLog.String())
			}
		})
	}
}

var names = map[string]struct{ stream, dgram string }{
	"netstack":  {"MSAFD Tcpip [TCP/IP]", "MSAFD Tcpip [UDP/IP]"},
	"host":      {"ws2 Host [TCP/IP]", "ws2 Host [UDP/IP]"},
	"chain":     {"ws2 trace over [MSAFD Tcpip [TCP/IP]]", "ws2 trace over [MSAFD Tcpip [UDP/IP]]"},
	"hostchain": {"ws2 trace over [ws2 Host [TCP/IP]]", "ws2 trace over [ws2 Host [UDP/IP]]"},
	// Both base providers in one catalog: the first by attributes wins.
	"both":      {"MSAFD Tcpip [TCP/IP]", "MSAFD Tcpip [UDP/IP]"},
	"hostfirst": {"ws2 Host [TCP/IP]", "ws2 Host [UDP/IP]"},
}

func chainLen(name string) int {
	if strings.HasSuffix(name, "chain") {
		return 2
	}
	return 1
}
