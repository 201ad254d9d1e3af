// Package golden compares test output with golden files, and rewrites them when the tests run with
// -update. It is for tests only; it declares the one -update flag of every test binary that imports
// it, so that packages do not each declare (or guard against declaring) their own.
package golden

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Update is the -update flag: rewrite the golden files instead of comparing with them.
var Update = flag.Bool("update", false, "rewrite the golden files")

// Assert fails t unless got equals the file at path; with -update it writes got there instead.
func Assert(t testing.TB, path string, got []byte) {
	t.Helper()
	if *Update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs from the output (-want +got; go test -update rewrites it):\n%s", path, diff)
	}
}
