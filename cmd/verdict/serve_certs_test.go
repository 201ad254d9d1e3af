package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
)

// serve with no --cert-dir writes its self-signed certificate to a temporary folder, and removes
// that folder when it exits; a --cert-dir given is left alone.
func TestServeRemovesItsTemporaryCertDir(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	given := filepath.Join(t.TempDir(), "certs")
	for _, args := range [][]string{nil, {"--cert-dir", given}} {
		ctx, cancel := context.WithCancel(context.Background())
		cancel() // serve starts, sees the context done, and exits
		var out, errOut bytes.Buffer
		root := newRootCmd(IOStreams{In: &bytes.Buffer{}, Out: &out, ErrOut: &errOut})
		root.SetArgs(append([]string{"serve", "--addr", "127.0.0.1:0", "--health-addr", "127.0.0.1:0", "--metrics-addr", ""}, args...))
		if err := root.ExecuteContext(ctx); err != nil {
			t.Fatalf("serve %v: %v\n%s", args, err, errOut.String())
		}
		if !bytes.Contains(errOut.Bytes(), []byte("made a self-signed serving certificate")) {
			t.Errorf("serve %v made no certificate:\n%s", args, errOut.String())
		}
	}
	left, _ := filepath.Glob(filepath.Join(tmp, "verdict-serving-certs-*"))
	if len(left) != 0 {
		t.Errorf("serve left %v behind", left)
	}
	if _, err := os.Stat(filepath.Join(given, "tls.crt")); err != nil {
		t.Errorf("the --cert-dir certificate is gone: %v", err)
	}
}
