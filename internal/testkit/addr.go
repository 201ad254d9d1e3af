package testkit

import (
	"net"
	"testing"
)

// FreeAddr is a loopback address ("127.0.0.1:PORT") where nothing listens at the time of the call: a
// port for a server the test starts, or an address that refuses connections.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
