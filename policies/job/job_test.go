package job

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/verdict-dev/verdict/policies"
	"github.com/verdict-dev/verdict/policies/bundle"
)

// TestEachKeepsOrderAcrossBatches: every document is presented once and emitted in input order,
// over more than one batch, and a document that cannot be presented is emitted with its error.
func TestEachKeepsOrderAcrossBatches(t *testing.T) {
	dir := t.TempDir()
	policy := filepath.Join(dir, "policy.rego")
	if err := os.WriteFile(policy, []byte("package main\n\ndeny contains msg if { false; msg := \"never\" }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	n := 2*batchSize + 7
	var b strings.Builder
	for i := range n {
		if i == batchSize+1 {
			b.WriteString("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bad, namespace: [x]}\n---\n")
			continue
		}
		fmt.Fprintf(&b, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c%d}\n---\n", i)
	}
	inputs := filepath.Join(dir, "inputs.yaml")
	if err := os.WriteFile(inputs, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	j, err := Prepare(context.Background(), Options{Policies: bundle.Options{Paths: []string{policy}}, Inputs: []string{inputs}}, "judged")
	if err != nil {
		t.Fatal(err)
	}
	var emitted []string
	Each(context.Background(), j, j.Inputs.Documents, func(_ context.Context, req *policies.Request) string {
		return req.Name
	}, func(p Presented[string]) {
		switch {
		case p.Err != nil:
			emitted = append(emitted, "error")
		case p.Out != p.Document.Object.GetName():
			t.Errorf("document %d judged as %q", p.Document.Index, p.Out)
		default:
			emitted = append(emitted, p.Out)
		}
	})
	if len(emitted) != len(j.Inputs.Documents) {
		t.Fatalf("emitted %d of %d documents", len(emitted), len(j.Inputs.Documents))
	}
	for i, got := range emitted {
		want := fmt.Sprintf("c%d", i)
		if i == batchSize+1 {
			want = "error"
		}
		if got != want {
			t.Fatalf("emitted[%d] = %q, want %q", i, got, want)
		}
	}
}

func TestPrepareRefusesNoObjects(t *testing.T) {
	dir := t.TempDir()
	policy := filepath.Join(dir, "policy.rego")
	empty := filepath.Join(dir, "empty.yaml")
	if err := os.WriteFile(policy, []byte("package main\n\ndeny contains msg if { false; msg := \"never\" }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(empty, []byte("# nothing\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Prepare(context.Background(), Options{Policies: bundle.Options{Paths: []string{policy}}, Inputs: []string{empty}}, "mutated")
	if err == nil || !strings.Contains(err.Error(), "nothing was mutated") {
		t.Fatalf("Prepare of no objects: %v, want an error saying nothing was mutated", err)
	}
}
