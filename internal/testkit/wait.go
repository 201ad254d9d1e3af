package testkit

import (
	"testing"
	"time"
)

// WaitFor polls cond, about 300 times over timeout (every 33ms over 10s, every 100ms over 30s), until
// it holds, and fails t with "timed out waiting for what" when timeout passes first.
func WaitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(timeout / 300)
	}
}
