//go:build linux

package integration

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ws2go/ws2/internal/netns"
	"github.com/ws2go/ws2/internal/testutil"
)

// The namespace's addresses (RFC 3849 and RFC 5737 documentation ranges;
// they exist only inside the test's namespace).
const (
	tunName   = "ws2i0"
	hostV4    = "192.0.2.1"
	hostV6    = "2001:db8::1"
	kernelV4  = "192.0.2.2"
	kernelV6  = "2001:db8::2"
	tunMTU    = 1500
	echoPort  = "7"
	tcpVolume = 1 << 20
)

// ws2dProc is a running ws2d.
type ws2dProc struct {
	cmd    *exec.Cmd
	stderr testutil.LockedBuffer
	exited chan struct{} // closed when the process has exited
	err    error         // of Wait, once exited is closed
}

// alive reports nil while ws2d runs, and why it stopped after.
func (p *ws2dProc) alive() error {
	select {
	case <-p.exited:
		return fmt.Errorf("ws2d exited: %v\n%s", p.err, p.stderr.String())
	default:
		return nil
	}
}

// startWs2d starts the ws2d binary with args; the test's cleanup kills it
// if it still runs and logs its output.
func startWs2d(t *testing.T, bin string, args ...string) *ws2dProc {
	t.Helper()
	p := &ws2dProc{exited: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Stderr = &p.stderr
	p.cmd.Stdout = &p.stderr
	// Never outlive the test process.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start ws2d: %v", err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			p.cmd.Process.Kill()
			<-p.exited
		}
		t.Logf("ws2d output:\n%s", p.stderr.String())
	})
	return p
}

// stop sends SIGTERM and returns the exit status.
func (p *ws2dProc) stop(t *testing.T) int {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	select {
	case <-p.exited:
	case <-time.After(stepTimeout):
		t.Fatalf("ws2d still running %v after SIGTERM", stepTimeout)
	}
	var ee *exec.ExitError
	switch {
	case p.err == nil:
		return 0
	case errors.As(p.err, &ee) && ee.Exited():
		return ee.ExitCode()
	}
	t.Fatalf("ws2d: %v", p.err)
	return -1
}

// requireTools ends the test unless every tool is installed.
func requireTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			netns.Require(t, tool+" not installed: "+err.Error())
		}
	}
}

// socatTCP sends data through socat to addr (a socat address such as
// TCP4:192.0.2.1:7) from a file, and returns the SHA-256 and length of what
// socat wrote out.
func socatTCP(t *testing.T, addr string, data []byte) ([32]byte, int) {
	t.Helper()
	in := filepath.Join(t.TempDir(), "in")
	if err := os.WriteFile(in, data, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
	defer cancel()
	// -t: after stdin's EOF (sent on as a FIN), wait this long for the
	// echo to finish; the service's FIN ends socat earlier.
	cmd := exec.CommandContext(ctx, "socat", "-t", "15", "-T", "15", "-b", "65536", "-", addr)
	cmd.Stdin = f
	h := sha256.New()
	cw := &countWriter{w: h}
	cmd.Stdout = cw
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("socat %s: %v\n%s", addr, err, stderr.String())
	}
	var sum [32]byte
	h.Sum(sum[:0])
	return sum, cw.n
}

type countWriter struct {
	w io.Writer
	n int
}

func (c *countWriter) Write(b []byte) (int, error) {
	c.n += len(b)
	return c.w.Write(b)
}

// socatUDP runs one socat process to the UDP address addr and sends the
// datagrams through it one at a time, each one as one write to socat's
// standard input (so one datagram), checking that each comes back whole on
// its standard output before sending the next.
func socatUDP(t *testing.T, addr string, sizes []int) {
	t.Helper()
	inR, inW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "socat", "-t", "1", "-T", "15", "-b", "65536", "-", addr)
	cmd.Stdin, cmd.Stdout = inR, outW
	var stderr testutil.LockedBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("socat %s: %v", addr, err)
	}
	inR.Close()
	outW.Close()
	var once sync.Once
	finish := func() error {
		var err error
		once.Do(func() {
			inW.Close()
			err = cmd.Wait()
			outR.Close()
		})
		return err
	}
	defer finish()
	for _, n := range sizes {
		msg := testutil.RandomBytes(t, n)
		if _, err := inW.Write(msg); err != nil {
			t.Fatalf("%s: write %d bytes to socat: %v", addr, n, err)
		}
		got := make([]byte, n)
		outR.SetReadDeadline(time.Now().Add(5 * time.Second))
		if m, err := io.ReadFull(outR, got); err != nil {
			t.Fatalf("%s: %d-byte datagram: read %d bytes back: %v\nsocat: %s", addr, n, m, err, stderr.String())
		}
		if !bytes.Equal(got, msg) {
			t.Fatalf("%s: %d-byte datagram came back different", addr, n)
		}
	}
	// Nothing more may come: no duplicate or stray datagrams.
	outR.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if m, err := outR.Read(make([]byte, 1)); m != 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("%s: extra output after the last datagram: %d bytes, %v", addr, m, err)
	}
	inW.Close()
	if err := finish(); err != nil {
		t.Errorf("socat %s: %v\n%s", addr, err, stderr.String())
	}
}

// TestWs2dEcho is the end-to-end test of the ws2d binary: in a namespace
// of its own it brings the host up on a TUN device with IPv4 and IPv6
// addresses on both sides, kernel clients (socat, and Go's net package)
// talk to its echo service, and SIGTERM stops it with status 0 and removes
// the device.
func TestWs2dEcho(t *testing.T) {
	bin := testutil.BuildOnce(t, "github.com/ws2go/ws2/cmd/ws2d", binEnv)
	if !netns.Enter(t) {
		return
	}
	requireTools(t, "socat")
	testutil.DisableDAD(t)
	pcap := filepath.Join(t.TempDir(), "ws2i0.pcap")

	p := startWs2d(t, bin,
		"--tun", tunName, "--mtu", fmt.Sprint(tunMTU), "--pcap", pcap,
		"--addr", hostV4+"/24", "--addr", hostV6+"/64",
		"--kernel-addr", kernelV4+"/24", "--kernel-addr", kernelV6+"/64")
	// Ready: TCP connects on both families.
	for _, ip := range []string{hostV4, hostV6} {
		testutil.DialRetry(t, "tcp", net.JoinHostPort(ip, echoPort), stepTimeout, p.alive).Close()
	}
	if ifc, err := net.InterfaceByName(tunName); err != nil || ifc.MTU != tunMTU || ifc.Flags&net.FlagUp == 0 {
		t.Fatalf("%s: %+v, %v; want up with MTU %d", tunName, ifc, err, tunMTU)
	}

	t.Run("socat/TCP", func(t *testing.T) {
		for _, addr := range []string{"TCP4:" + hostV4 + ":" + echoPort, "TCP6:[" + hostV6 + "]:" + echoPort} {
			data := testutil.RandomBytes(t, tcpVolume)
			sum, n := socatTCP(t, addr, data)
			if n != len(data) || sum != sha256.Sum256(data) {
				t.Errorf("%s: got %d bytes back (sha256 %x), sent %d (sha256 %x)", addr, n, sum, len(data), sha256.Sum256(data))
			}
		}
	})
	t.Run("socat/UDP", func(t *testing.T) {
		// Up to the largest unfragmented datagram for a 1500-byte MTU, and
		// beyond it (IP fragments both ways).
		socatUDP(t, "UDP4:"+hostV4+":"+echoPort, []int{1, 64, 512, 1400, 1472, 3000, 8000})
		socatUDP(t, "UDP6:["+hostV6+"]:"+echoPort, []int{1, 64, 512, 1400, 1452, 3000, 8000})
	})
	t.Run("kernel/TCPConcurrent", func(t *testing.T) {
		var wg sync.WaitGroup
		for i := range 12 {
			ip := []string{hostV4, hostV6}[i%2]
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := kernelTCPEcho(net.JoinHostPort(ip, echoPort), 64<<10+i*999); err != nil {
					t.Errorf("connection %d to %s: %v", i, ip, err)
				}
			}()
		}
		wg.Wait()
	})

	if code := p.stop(t); code != 0 {
		t.Fatalf("ws2d exited %d after SIGTERM, want 0", code)
	}
	if _, err := net.InterfaceByName(tunName); err == nil {
		t.Errorf("%s still exists after ws2d stopped", tunName)
	}
	if _, err := os.Stat("/sys/class/net/" + tunName); err == nil {
		t.Errorf("/sys/class/net/%s still exists after ws2d stopped", tunName)
	}
	out := p.stderr.String()
	for _, want := range []string{"ws2d up", "device=" + tunName, "mtu=1500", "tcp/7,udp/7", "stopped"} {
		if !strings.Contains(out, want) {
			t.Errorf("ws2d's log lacks %q", want)
		}
	}
	if strings.Contains(out, "level=ERROR") {
		t.Errorf("ws2d logged errors")
	}
	// A header, a record header and at least an IP header.
	testutil.CheckPcapFile(t, pcap, 24+16+20)
}

// kernelTCPEcho sends n random bytes over a kernel TCP connection to addr
// and checks that the same bytes come back before the service's FIN.
func kernelTCPEcho(addr string, n int) error {
	data := make([]byte, n)
	for i := range data {
		data[i] = byte(i*7 + n)
	}
	c, err := net.DialTimeout("tcp", addr, stepTimeout)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(stepTimeout))
	werr := make(chan error, 1)
	go func() {
		_, err := c.Write(data)
		if err == nil {
			err = c.(*net.TCPConn).CloseWrite()
		}
		werr <- err
	}()
	got, err := io.ReadAll(c)
	if err != nil {
		return fmt.Errorf("read after %d bytes: %w", len(got), err)
	}
	if err := <-werr; err != nil {
		return fmt.Errorf("write: %w", err)
	}
	if !bytes.Equal(got, data) {
		return fmt.Errorf("got %d bytes back, sent %d, not equal", len(got), len(data))
	}
	return nil
}
