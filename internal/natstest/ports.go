package natstest

import (
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
)

// Ports are picked below the kernel's ephemeral range. A port handed out by
// bind(0) lies inside that range, and once a server stopped for a restart
// releases it, any outgoing connection on the machine may take it as its
// source port, so the server could not come back on it. Outside the range
// only another explicit bind can collide.
const portFloor = 10000

// freePorts returns n distinct ports on 127.0.0.1 that were free a moment
// ago. The probe listeners stay open until all n are chosen.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	ports := make([]int, 0, n)
	lo, hi := portWindow()
	for tries := 0; len(ports) < n && tries < 100*n; tries++ {
		addr := "127.0.0.1:0"
		if hi > lo {
			addr = hostPort(lo + rand.IntN(hi-lo))
		}
		l, err := net.Listen("tcp", addr)
		if err != nil {
			if hi > lo {
				continue
			}
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	if len(ports) < n {
		return nil, &net.AddrError{Err: "no free port found", Addr: "127.0.0.1"}
	}
	return ports, nil
}

// portWindow is the half-open range [lo, hi) to pick from; lo == hi means
// "let the kernel choose", used where the ephemeral range is unknown or
// leaves too little room below it.
func portWindow() (lo, hi int) {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 0, 0
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return 0, 0
	}
	ephemeralLow, err := strconv.Atoi(f[0])
	if err != nil || ephemeralLow-portFloor < 1000 {
		return 0, 0
	}
	return portFloor, ephemeralLow
}

func portFree(port int) bool {
	l, err := net.Listen("tcp", hostPort(port))
	if err != nil {
		return false
	}
	l.Close()
	return true
}
