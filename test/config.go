package test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// WithComponents copies config, the repository's config/ folder, into a temporary folder with the
// optional components of those names uncommented in config/default, as README's Install section
// says to enable them, and returns the copy of config/default; it fails t when config/default has no
// such component to uncomment. For the tests of the install here and in test/e2e.
func WithComponents(t testing.TB, config string, names ...string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(config)); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "default", "kustomization.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range append([]string{"components:"}, names...) {
		if line != "components:" {
			line = "- ../components/" + line
		}
		commented := []byte("\n#" + line + "\n")
		if !bytes.Contains(data, commented) {
			t.Fatalf("config/default/kustomization.yaml has no line %q to uncomment", "#"+line)
		}
		data = bytes.Replace(data, commented, []byte("\n"+line+"\n"), 1)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, "default")
}
