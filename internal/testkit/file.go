package testkit

import (
	"os"
	"testing"
)

// WriteFile writes text to the file at path, or fails t.
func WriteFile(t testing.TB, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}
