package controlplane

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestTailBuffer(t *testing.T) {
	tests := []struct {
		name   string
		max    int
		writes []string
		want   string
	}{
		{name: "under the limit", max: 8, writes: []string{"ab", "cd"}, want: "abcd"},
		{name: "at the limit", max: 4, writes: []string{"ab", "cd"}, want: "abcd"},
		{name: "keeps the tail", max: 4, writes: []string{"abc", "def"}, want: "cdef"},
		{name: "one long write", max: 3, writes: []string{"abcdefg"}, want: "efg"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := &tailBuffer{max: tc.max}
			for _, w := range tc.writes {
				if n, err := b.Write([]byte(w)); n != len(w) || err != nil {
					t.Fatalf("Write(%q) = %d, %v", w, n, err)
				}
			}
			if got := b.String(); got != tc.want {
				t.Errorf("String() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestModuleRoot(t *testing.T) {
	root, err := moduleRoot()
	if err != nil {
		t.Fatalf("moduleRoot: %v", err)
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	// The working directory of a test is its package's folder, test/e2e/controlplane.
	if want := filepath.Dir(filepath.Dir(filepath.Dir(wd))); root != want {
		t.Errorf("moduleRoot() = %s, want %s", root, want)
	}
}

func TestBinaryDirFromEnvironment(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("KUBEBUILDER_ASSETS", dir)
	got, err := binaryDir()
	if err != nil || got != dir {
		t.Fatalf("binaryDir() = %q, %v; want %q", got, err, dir)
	}
	if got, want := missingBinaries(dir), []string{"kube-apiserver", "etcd"}; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("missingBinaries(empty dir) = %v, want %v", got, want)
	}
	for _, name := range binaries {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if got := missingBinaries(dir); len(got) != 0 {
		t.Errorf("missingBinaries(full dir) = %v, want none", got)
	}
}
