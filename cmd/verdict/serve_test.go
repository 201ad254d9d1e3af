package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestServeRefusesNoPolicy(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "empty.yaml"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI(t, "", "serve", "-p", dir, "--cert-dir", t.TempDir(), "--addr", "127.0.0.1:0", "--metrics-addr", "", "--health-addr", "")
	if code != exitBadInput || !strings.Contains(stderr, "hold no policy") || !strings.Contains(stderr, "--allow-empty") {
		t.Errorf("serve with an empty policy file: exit %d, %s; want %d and an error that names --allow-empty", code, stderr, exitBadInput)
	}
}

func TestServeAllowEmpty(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "empty.yaml"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	health := freeAddr(t)
	var out, errOut bytes.Buffer
	cmd := newServeCmd(IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	cmd.SetArgs([]string{"-p", dir, "--allow-empty", "--cert-dir", t.TempDir(), "--addr", freeAddr(t), "--metrics-addr", "", "--health-addr", health})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve --allow-empty: %v\n%s", err, errOut.String())
		}
	}()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + health + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		select {
		case err := <-done:
			done <- err
			t.Fatalf("serve --allow-empty stopped: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("serve --allow-empty with no policy is not ready")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
