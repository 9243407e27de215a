package xmpptest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// Ports are handed out below the kernel's ephemeral range, so that no
// outgoing connection or bind(":0") elsewhere on the machine can take one
// between FreePort and the server's bind; and each is reserved with a lock
// file, so that test binaries running at the same time (go test ./... runs
// packages in parallel) never pick the same one.
const (
	portRangeLow  = 20000
	portAttempts  = 200
	portLockDir   = "jinglegate-xmpptest-ports"
	portLockPerms = 0o1777
)

// FreePort returns a TCP port on 127.0.0.1 that nothing listens on, reserved
// for t until t's cleanup: no other caller of FreePort, in this process or
// another, gets it meanwhile. The caller (or a server it starts) is expected
// to bind it. It calls t.Fatal if no port can be found.
func FreePort(t testing.TB) int {
	t.Helper()
	p, release, err := reservePort()
	if err != nil {
		t.Fatalf("xmpptest: %v", err)
	}
	t.Cleanup(release)
	return p
}

// reservePort picks a free port and holds its lock until release is called.
func reservePort() (port int, release func(), err error) {
	low, high := portRange()
	dir := filepath.Join(os.TempDir(), portLockDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, nil, fmt.Errorf("creating the port lock directory: %w", err)
	}
	// Let other users of the machine share the directory; best effort.
	_ = os.Chmod(dir, portLockPerms)

	var lastErr error
	for range portAttempts {
		p := low + rand.IntN(high-low)
		f, err := lockPort(dir, p)
		if err != nil {
			lastErr = err
			continue
		}
		if err := checkBindable(p); err != nil {
			f.Close()
			lastErr = err
			continue
		}
		return p, func() { f.Close() }, nil
	}
	return 0, nil, fmt.Errorf("no free port in [%d, %d) after %d attempts (last: %v)", low, high, portAttempts, lastErr)
}

// lockPort takes the lock of port p without waiting; the lock is released
// when the returned file is closed or the process exits.
func lockPort(dir string, p int) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, strconv.Itoa(p)+".lock"), os.O_RDWR|os.O_CREATE, 0o666)
	if err != nil {
		return nil, fmt.Errorf("opening the lock of port %d: %w", p, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("port %d is reserved by another test", p)
		}
		return nil, fmt.Errorf("locking port %d: %w", p, err)
	}
	return f, nil
}

func checkBindable(p int) error {
	l, err := net.Listen("tcp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
	if err != nil {
		return err
	}
	return l.Close()
}

// portRange is [portRangeLow, start of the ephemeral range), or the ports
// above the ephemeral range when that is too small.
func portRange() (low, high int) {
	elow, ehigh := 32768, 60999 // Linux's defaults
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			l, err1 := strconv.Atoi(f[0])
			h, err2 := strconv.Atoi(f[1])
			if err1 == nil && err2 == nil && l <= h {
				elow, ehigh = l, h
			}
		}
	}
	if elow-portRangeLow >= 1000 {
		return portRangeLow, elow
	}
	if 65535-ehigh >= 1000 {
		return ehigh + 1, 65536
	}
	return portRangeLow, 65536
}
