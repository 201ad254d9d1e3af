package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/verdict-dev/verdict/internal/testkit"
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
	jsonLines(t, stderr)
}

// jsonLines fails unless every line of a log is one JSON object, and returns their messages.
func jsonLines(t *testing.T, log string) []string {
	t.Helper()
	var msgs []string
	for _, line := range strings.Split(strings.TrimSpace(log), "\n") {
		var entry struct {
			Msg   string `json:"msg"`
			Error string `json:"error"`
		}
		if err := json.Unmarshal([]byte(line), &entry); err != nil {
			t.Errorf("serve wrote a line that is not JSON: %q", line)
			continue
		}
		msgs = append(msgs, entry.Msg+": "+entry.Error)
	}
	return msgs
}

// A client that is not speaking TLS makes http.Server log a handshake error: through zapr, as JSON.
func TestServeLogsServerErrorsAsJSON(t *testing.T) {
	addr := testkit.FreeAddr(t)
	var out, errOut bytes.Buffer
	cmd := newServeCmd(IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	cmd.SetArgs([]string{"--cert-dir", t.TempDir(), "--addr", addr, "--metrics-addr", "", "--health-addr", ""})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Write([]byte("GET / HTTP/1.1\r\n\r\n"))
			io.ReadAll(c)
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve does not listen on %s", addr)
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // the server logs the handshake error after the connection ends
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v\n%s", err, errOut.String())
	}
	msgs := jsonLines(t, errOut.String())
	if !slices.ContainsFunc(msgs, func(m string) bool { return strings.Contains(m, "TLS handshake error") }) {
		t.Errorf("no handshake error among the log lines %q", msgs)
	}
}

func TestServeAllowEmpty(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "empty.yaml"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	health := testkit.FreeAddr(t)
	var out, errOut bytes.Buffer
	cmd := newServeCmd(IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	cmd.SetArgs([]string{"-p", dir, "--allow-empty", "--cert-dir", t.TempDir(), "--addr", testkit.FreeAddr(t), "--metrics-addr", "", "--health-addr", health})
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
