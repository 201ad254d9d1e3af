package check

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/verdict-dev/verdict/internal/junit"
	"github.com/verdict-dev/verdict/internal/testkit"
	"github.com/verdict-dev/verdict/policies"
	"github.com/verdict-dev/verdict/policies/bundle"
	"github.com/verdict-dev/verdict/policies/job"
)

// golden compares got with testdata/golden/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	testkit.Golden(t, filepath.Join("testdata", "golden", name), got)
}

func runTestdata(t *testing.T, op policies.Operation) *Report {
	t.Helper()
	r, err := Run(context.Background(), job.Options{
		Policies:  bundle.Options{Paths: []string{"testdata/policies"}},
		Inputs:    []string{"testdata/manifests"},
		Operation: op,
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestReportFormatsWithErrors: documents that cannot be read or judged are in every format, with
// their file, document and absolute line, and every other document is still judged.
func TestReportFormatsWithErrors(t *testing.T) {
	r, err := Run(context.Background(), job.Options{
		Policies: bundle.Options{Paths: []string{"testdata/policies"}},
		Inputs:   []string{"testdata/broken"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if r.Summary.Objects != 3 || len(r.Errors) != 3 {
		t.Errorf("judged %d objects with %d errors, want 3 objects (first, the Certificate as written, last) and 3 errors", r.Summary.Objects, len(r.Errors))
	}
	for _, format := range Formats {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			if err := r.Write(&buf, format); err != nil {
				t.Fatal(err)
			}
			golden(t, "errors."+format, buf.Bytes())
		})
	}
	if want := []string{"cert-manager.io/v1 Certificate is neither built in nor defined by a CustomResourceDefinition among the inputs: judged as written (--strict refuses it)"}; !cmp.Equal(r.Notes, want) {
		t.Errorf("notes = %q, want %q", r.Notes, want)
	}
}

func TestReportFormats(t *testing.T) {
	r := runTestdata(t, policies.Create)
	for _, format := range Formats {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			if err := r.Write(&buf, format); err != nil {
				t.Fatal(err)
			}
			golden(t, "report."+format, buf.Bytes())
			switch format {
			case "json", "sarif":
				if !json.Valid(buf.Bytes()) {
					t.Error("not valid JSON")
				}
			case "junit":
				if err := xml.Unmarshal(buf.Bytes(), new(junit.Suites)); err != nil {
					t.Errorf("not valid XML: %v", err)
				}
			}
		})
	}
}

func TestReportSemantics(t *testing.T) {
	r := runTestdata(t, policies.Create)
	want := Summary{Objects: 4, Denied: 2, Warned: 1}
	if r.Summary != want {
		t.Errorf("summary = %+v, want %+v", r.Summary, want)
	}
	if !r.Denied() {
		t.Error("Denied() = false")
	}
	// The namespaced Deployment without a namespace is judged in "default", which is not prod: it
	// gets the dev binding's warning; the one in shop (env=prod) is denied.
	var got []string
	for _, res := range r.Results {
		got = append(got, strings.Join([]string{res.Namespace, res.Name, res.Policy, res.Binding, res.Action}, " "))
	}
	wantResults := []string{
		"shop cart max-replicas max-replicas-prod deny",
		"default sandbox max-replicas max-replicas-dev warn",
		"default sandbox k8s.labels  deny",
	}
	if diff := cmp.Diff(wantResults, got); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
}

func TestDeleteJudgesTheOldObject(t *testing.T) {
	r := runTestdata(t, policies.Delete)
	// The VAP matches only CREATE and UPDATE; the plain Rego policy judges the old object.
	for _, res := range r.Results {
		if res.Policy == "max-replicas" {
			t.Errorf("a CREATE/UPDATE policy judged a DELETE: %+v", res)
		}
	}
	if r.Summary.Denied != 1 {
		t.Errorf("denied = %d, want 1 (sandbox has no owner label)", r.Summary.Denied)
	}
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name     string
		policies []string
		inputs   []string
		strict   bool
		want     string
	}{
		{name: "missing file", inputs: []string{filepath.Join(dir, "nope.yaml")}, want: "nope.yaml: no such file"},
		{name: "no object at all is no pass", inputs: []string{write("empty.yaml", "# nothing\n---\n")}, want: "no Kubernetes objects in " + filepath.Join(dir, "empty.yaml") + ": nothing was judged"},
		{name: "unknown kind under --strict", strict: true, inputs: []string{write("crd.yaml", "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n")},
			want: `crd.yaml:1: document 1: no matches for kind "Widget" in version "example.com/v1"`},
		{name: "namespace mismatch is kubectl's error", inputs: []string{write("ns.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: a}\n")},
			want: "does not match the namespace"},
		{name: "policy that does not compile", policies: []string{write("bad.rego", "package x\ndeny contains y if { y := input.z[ }\n")},
			inputs: []string{"testdata/manifests/ok.json"}, want: "bad.rego:2"},
		{name: "runtime error names the document", policies: []string{write("rt.rego", "package rt\nv := 1 if { true }\nv := 2 if { true }\ndeny contains \"x\" if { v == 1 }\n")},
			inputs: []string{"testdata/manifests/ok.json"}, want: `ok.json:1: document 1: ConfigMap "settings": policy evaluation failed: package rt: rule deny`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pol := tc.policies
			if pol == nil {
				pol = []string{"testdata/policies"}
			}
			r, err := Run(context.Background(), job.Options{Policies: bundle.Options{Paths: pol}, Inputs: tc.inputs, Namespace: nsFor(tc.name), Strict: tc.strict})
			if got := errText(r, err); !strings.Contains(got, tc.want) {
				t.Fatalf("error = %q, want it to contain %q", got, tc.want)
			}
		})
	}
}

// errText is what a run reports as errors: its own error, or the documents it could not judge.
func errText(r *Report, err error) string {
	if err != nil {
		return err.Error()
	}
	var lines []string
	for _, e := range r.Errors {
		lines = append(lines, e.String())
	}
	return strings.Join(lines, "\n")
}

func nsFor(name string) string {
	if strings.HasPrefix(name, "namespace mismatch") {
		return "b"
	}
	return ""
}

func TestRunawayPolicyIsStopped(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "slow.rego")
	if err := os.WriteFile(p, []byte(`package slow

deny contains "never" if {
	some i in numbers.range(1, 100000)
	some j in numbers.range(1, 100000)
	i == 0 - j
}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	r, err := Run(context.Background(), job.Options{Policies: bundle.Options{Paths: []string{p}}, Inputs: []string{"testdata/manifests/ok.json"}, Timeout: 200 * time.Millisecond})
	if got := errText(r, err); !strings.Contains(got, "ok.json:1: document 1") || !strings.Contains(got, "evaluation of data.slow.deny stopped") {
		t.Fatalf("error = %v, want the evaluation stopped, naming the document", got)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v to stop", d)
	}
}
