package netstack

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gvisor.dev/gvisor/pkg/tcpip"

	"github.com/ws2go/ws2/wsa"
)

// errorTable lists every tcpip.Error type gVisor defines, with its Winsock
// error. TestErrorTableComplete fails when gVisor gains a type not listed.
var errorTable = []struct {
	err  tcpip.Error
	want wsa.Errno
}{
	{&tcpip.ErrAborted{}, wsa.WSAECONNABORTED},
	{&tcpip.ErrAddressFamilyNotSupported{}, wsa.WSAEAFNOSUPPORT},
	{&tcpip.ErrAlreadyBound{}, wsa.WSAEINVAL},
	{&tcpip.ErrAlreadyConnected{}, wsa.WSAEISCONN},
	{&tcpip.ErrAlreadyConnecting{}, wsa.WSAEALREADY},
	{&tcpip.ErrBadAddress{}, wsa.WSAEFAULT},
	{&tcpip.ErrBadBuffer{}, wsa.WSAEFAULT},
	{&tcpip.ErrBadLocalAddress{}, wsa.WSAEADDRNOTAVAIL},
	{&tcpip.ErrBroadcastDisabled{}, wsa.WSAEACCES},
	{&tcpip.ErrClosedForReceive{}, wsa.WSAESHUTDOWN},
	{&tcpip.ErrClosedForSend{}, wsa.WSAESHUTDOWN},
	{&tcpip.ErrConnectStarted{}, wsa.WSAEWOULDBLOCK},
	{&tcpip.ErrConnectionAborted{}, wsa.WSAECONNABORTED},
	{&tcpip.ErrConnectionRefused{}, wsa.WSAECONNREFUSED},
	{&tcpip.ErrConnectionReset{}, wsa.WSAECONNRESET},
	{&tcpip.ErrDestinationRequired{}, wsa.WSAEDESTADDRREQ},
	{&tcpip.ErrDuplicateAddress{}, wsa.WSAEADDRINUSE},
	{&tcpip.ErrDuplicateNICID{}, wsa.WSAEINVAL},
	{&tcpip.ErrInvalidNICID{}, wsa.WSAEINVAL},
	{&tcpip.ErrInvalidEndpointState{}, wsa.WSAEINVAL},
	{&tcpip.ErrInvalidOptionValue{}, wsa.WSAEINVAL},
	{&tcpip.ErrInvalidPortRange{}, wsa.WSAEINVAL},
	{&tcpip.ErrMalformedHeader{}, wsa.WSAEINVAL},
	{&tcpip.ErrMessageTooLong{}, wsa.WSAEMSGSIZE},
	{&tcpip.ErrNetworkUnreachable{}, wsa.WSAENETUNREACH},
	{&tcpip.ErrNoBufferSpace{}, wsa.WSAENOBUFS},
	{&tcpip.ErrNoPortAvailable{}, wsa.WSAEADDRINUSE},
	{&tcpip.ErrHostUnreachable{}, wsa.WSAEHOSTUNREACH},
	{&tcpip.ErrHostDown{}, wsa.WSAEHOSTDOWN},
	{&tcpip.ErrNoNet{}, wsa.WSAENETDOWN},
	{&tcpip.ErrNoSuchFile{}, wsa.WSAEINVAL},
	{&tcpip.ErrNotConnected{}, wsa.WSAENOTCONN},
	{&tcpip.ErrNotPermitted{}, wsa.WSAEACCES},
	{&tcpip.ErrNotSupported{}, wsa.WSAEOPNOTSUPP},
	{&tcpip.ErrPortInUse{}, wsa.WSAEADDRINUSE},
	{&tcpip.ErrQueueSizeNotSupported{}, wsa.WSAEOPNOTSUPP},
	{&tcpip.ErrTimeout{}, wsa.WSAETIMEDOUT},
	{&tcpip.ErrUnknownDevice{}, wsa.WSAEINVAL},
	{&tcpip.ErrUnknownNICID{}, wsa.WSAEADDRNOTAVAIL},
	{&tcpip.ErrUnknownProtocol{}, wsa.WSAEPROTONOSUPPORT},
	{&tcpip.ErrUnknownProtocolOption{}, wsa.WSAENOPROTOOPT},
	{&tcpip.ErrWouldBlock{}, wsa.WSAEWOULDBLOCK},
	{&tcpip.ErrMissingRequiredFields{}, wsa.WSAEINVAL},
	{&tcpip.ErrMulticastInputCannotBeOutput{}, wsa.WSAEINVAL},
	{&tcpip.ErrEndpointBusy{}, wsa.WSAEINPROGRESS},
}

func TestErrorTable(t *testing.T) {
	if translate(nil) != nil {
		t.Fatal("translate(nil) != nil")
	}
	for _, c := range errorTable {
		got := translate(c.err)
		if got != c.want {
			t.Errorf("%T → %v, want %v", c.err, got, c.want.Name())
		}
		if got == errUnmapped || got == nil {
			t.Errorf("%T is not mapped", c.err)
		}
	}
}

// TestErrorTableComplete reads gVisor's tcpip package source and checks that
// every type implementing tcpip.Error (every type with an isError method) is
// in errorTable, so a gVisor update that adds one fails here.
func TestErrorTableComplete(t *testing.T) {
	dir := tcpipSourceDir(t)
	fset := token.NewFileSet()
	defined := map[string]bool{}
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no gVisor tcpip sources in %s: %v", dir, err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range af.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Name.Name != "isError" || fd.Recv == nil || len(fd.Recv.List) != 1 {
				continue
			}
			typ := fd.Recv.List[0].Type
			if st, ok := typ.(*ast.StarExpr); ok {
				typ = st.X
			}
			if id, ok := typ.(*ast.Ident); ok {
				defined[id.Name] = true
			}
		}
	}
	listed := map[string]bool{}
	for _, c := range errorTable {
		listed[reflect.TypeOf(c.err).Elem().Name()] = true
	}
	for name := range defined {
		if !listed[name] {
			t.Errorf("gVisor defines tcpip.%s, which the error table does not map", name)
		}
	}
	if len(defined) < 40 {
		t.Fatalf("found only %d tcpip.Error types in %s; is the source reader broken?", len(defined), dir)
	}
}

// tcpipSourceDir finds gVisor's pkg/tcpip in the module cache with go list.
func tcpipSourceDir(t *testing.T) string {
	t.Helper()
	goTool := filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	if _, err := os.Stat(goTool); err != nil {
		goTool = "go"
	}
	out, err := exec.Command(goTool, "list", "-f", "{{.Dir}}", "gvisor.dev/gvisor/pkg/tcpip").Output()
	if err != nil {
		t.Skipf("cannot locate gVisor's sources (go list: %v)", err)
	}
	return strings.TrimSpace(string(out))
}
