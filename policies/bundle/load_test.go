package bundle

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

const denyAll = "package all\n\ndeny contains \"no\" if { true }\n"

// TestLoadFailsClosed: a policy path that yields nothing, or that is no regular file, is an error,
// never a set that judges nothing.
func TestLoadFailsClosed(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	empty := filepath.Join(dir, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "pipe.rego")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	real := filepath.Join(dir, "real")
	write("real/all.rego", denyAll)
	link := filepath.Join(dir, "link")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		paths   []string
		stdin   string
		wantErr string
		want    int // policies, when no error
	}{
		{name: "empty folder", paths: []string{empty}, wantErr: "empty: no policies found"},
		{name: "folder of other files", paths: []string{filepath.Dir(write("docs/README.md", "# x"))}, wantErr: "docs: no policies found"},
		{name: "empty file", paths: []string{write("empty.yaml", "")}, wantErr: "empty.yaml: no policies found"},
		{name: "empty stdin", paths: []string{"-"}, stdin: "", wantErr: "-: no policies found"},
		{name: "a FIFO named as a policy", paths: []string{fifo}, wantErr: "pipe.rego: not a regular file (a named pipe)"},
		{name: "a device named as a policy", paths: []string{"/dev/zero"}, wantErr: "/dev/zero: not a regular file (a device)"},
		{name: "a symlinked folder is read", paths: []string{link}, want: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := Load(context.Background(), Options{Paths: tc.paths, Stdin: strings.NewReader(tc.stdin)})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if b.Policies != tc.want {
				t.Errorf("%d policies, want %d", b.Policies, tc.want)
			}
		})
	}
}
