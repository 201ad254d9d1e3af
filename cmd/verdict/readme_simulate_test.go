package main

import (
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestREADMESimulate runs the example of README's "What would the cluster do?" section from the
// repository's root and compares its output with the README's.
func TestREADMESimulate(t *testing.T) {
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(data), "## What would the cluster do?")
	if !ok {
		t.Fatal(`README has no "What would the cluster do?" section`)
	}
	_, block, ok := strings.Cut(section, "```console\n$ verdict ")
	if !ok {
		t.Fatal("the section has no console example")
	}
	block, _, _ = strings.Cut(block, "```")
	command, want, _ := strings.Cut(block, "\n")
	t.Chdir("../..")
	code, got, errOut := runCLI(t, "", strings.Fields(command)...)
	if code != 1 {
		t.Errorf("exit %d, want 1; stderr:\n%s", code, errOut)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("README's output differs from verdict's (-README +verdict):\n%s", diff)
	}
}
