package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"

	"github.com/verdict-dev/verdict/internal/testkit"
)

// cliDocs is the per-command flag reference, one Markdown file per command, that docs/contract.md
// and README link to.
const cliDocs = "../../docs/cli"

// genCLIDocs writes the reference of every command into dir, as cobra/doc renders the commands that
// `verdict` runs: with the completion command and the --version flag that Execute adds, without cobra's dated footer (so that
// the files change only when a command does).
func genCLIDocs(t *testing.T, dir string) {
	t.Helper()
	root := newRootCmd(IOStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: io.Discard})
	root.InitDefaultCompletionCmd()
	root.InitDefaultVersionFlag()
	disableAutoGenTag(root)
	if err := doc.GenMarkdownTree(root, dir); err != nil {
		t.Fatal(err)
	}
}

func disableAutoGenTag(c *cobra.Command) {
	c.DisableAutoGenTag = true
	for _, sub := range c.Commands() {
		disableAutoGenTag(sub)
	}
}

// TestCLIReference keeps docs/cli equal to what the commands say of themselves. After changing a
// command, its flags or its help: go test ./cmd/verdict -run TestCLIReference -update.
func TestCLIReference(t *testing.T) {
	got := t.TempDir()
	genCLIDocs(t, got)
	if *testkit.Update {
		if err := os.RemoveAll(cliDocs); err != nil {
			t.Fatal(err)
		}
		if err := os.CopyFS(cliDocs, os.DirFS(got)); err != nil {
			t.Fatal(err)
		}
		return
	}
	const regenerate = "go test ./cmd/verdict -run TestCLIReference -update"
	files := map[string]bool{}
	for _, dir := range []string{got, cliDocs} {
		names, err := filepath.Glob(filepath.Join(dir, "*.md"))
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range names {
			files[filepath.Base(n)] = true
		}
	}
	for name := range files {
		want, errWant := os.ReadFile(filepath.Join(cliDocs, name))
		have, errHave := os.ReadFile(filepath.Join(got, name))
		switch {
		case errWant != nil:
			t.Errorf("docs/cli/%s is missing: the command it documents is new (run %s)", name, regenerate)
		case errHave != nil:
			t.Errorf("docs/cli/%s documents a command verdict no longer has (run %s)", name, regenerate)
		default:
			if diff := cmp.Diff(string(want), string(have)); diff != "" {
				t.Errorf("docs/cli/%s is stale (run %s); -docs/cli +generated:\n%s", name, regenerate, diff)
			}
		}
	}
}
