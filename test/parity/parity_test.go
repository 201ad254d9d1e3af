package parity

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"text/tabwriter"

	"github.com/verdict-dev/verdict/manifest"
)

var (
	gatorBin    = flag.String("gator", "", "the gator binary (gatekeeper v3.23.1): compare verdict check --as-written with gator test")
	conftestBin = flag.String("conftest", "", "the conftest binary (v0.71.1): compare verdict check --as-written with conftest test")
	verdictBin  = flag.String("verdict", "", "the verdict binary (built from this repository when empty)")
)

// The material, relative to this folder.
var (
	gatekeeperRoots = []string{"../testdata/gatekeeper-library", "testdata/gatekeeper-library", "testdata/gatekeeper-match"}
	conftestRoot    = "testdata/conftest"
)

// finding is what both sides of a comparison report, normalized: the object (its content, as a key),
// the policy (template, or Rego package), the binding (constraint; empty for plain Rego), the action
// (deny, warn, audit) and the message.
type finding struct {
	object  string
	policy  string
	binding string
	action  string
	message string
}

// material is the policies and objects of one comparison.
type material struct {
	templates   []string
	constraints []string
	objects     []string // files
	// docs maps an object's key to where it is ("file#document"), and names each key for the table.
	where map[string][]string
	names map[string]string
	// byDoc maps "file#document" to the object's key.
	byDoc map[string]string
	count int // documents among the objects
}

func TestGatorParity(t *testing.T) {
	if *gatorBin == "" {
		t.Skip("give -gator PATH to compare with gator test")
	}
	verdict := verdictBinary(t)
	m := gatekeeperMaterial(t)
	t.Logf("%d template files, %d constraint files, %d object files (%d objects): %d constraint file × object pairs",
		len(m.templates), len(m.constraints), len(m.objects), m.count, len(m.constraints)*m.count)

	// gator test reads the templates, constraints and objects as one set, as verdict reads -p and inputs.
	gatorArgs := []string{"test", "-o", "json"}
	for _, f := range concat(m.templates, m.constraints, m.objects) {
		gatorArgs = append(gatorArgs, "-f", f)
	}
	out, stderr := run(t, *gatorBin, gatorArgs, 0, 1)
	var gator []struct {
		Msg               string         `json:"msg"`
		Constraint        map[string]any `json:"constraint"`
		EnforcementAction string         `json:"enforcementAction"`
		ViolatingObject   map[string]any `json:"violatingObject"`
	}
	if err := json.Unmarshal(orEmptyList(out), &gator); err != nil {
		t.Fatalf("gator test -o json: %v\nstdout:\n%s\nstderr:\n%s", err, out, stderr)
	}
	var want []finding
	policyObjects := 0
	for _, r := range gator {
		obj := &unstructuredish{r.ViolatingObject}
		// gator also reviews the templates and constraints it is given; verdict judges its inputs,
		// not its policies (-p), so those findings are left out (and counted).
		if obj.kind() == "ConstraintTemplate" || strings.HasPrefix(obj.apiVersion(), "constraints.gatekeeper.sh/") {
			policyObjects++
			continue
		}
		c := &unstructuredish{r.Constraint}
		want = append(want, finding{
			object: m.key(t, r.ViolatingObject), policy: strings.ToLower(c.kind()), binding: c.name(),
			action: gatorAction(r.EnforcementAction), message: r.Msg,
		})
	}

	verdictArgs := []string{"check", "--as-written", "-o", "json"}
	for _, f := range concat(m.templates, m.constraints) {
		verdictArgs = append(verdictArgs, "-p", f)
	}
	got := verdictFindings(t, verdict, append(verdictArgs, m.objects...), m)
	t.Logf("gator: %d findings (%d more about the templates and constraints themselves, left out); verdict: %d findings",
		len(want), policyObjects, len(got))
	compare(t, "gator test", m, want, got)
}

func TestConftestParity(t *testing.T) {
	if *conftestBin == "" {
		t.Skip("give -conftest PATH to compare with conftest test")
	}
	verdict := verdictBinary(t)
	m := conftestMaterial(t)
	suites, err := filepath.Glob(filepath.Join(conftestRoot, "*", "policy"))
	if err != nil || len(suites) == 0 {
		t.Fatalf("no conftest policies under %s: %v", conftestRoot, err)
	}
	for _, policy := range suites {
		t.Run(filepath.Base(filepath.Dir(policy)), func(t *testing.T) {
			var modules []string
			_ = filepath.WalkDir(policy, func(p string, d fs.DirEntry, err error) error {
				if err == nil && strings.HasSuffix(p, ".rego") {
					modules = append(modules, p)
				}
				return nil
			})
			t.Logf("%s: %d modules; %d object files (%d objects)", policy, len(modules), len(m.objects), m.count)
			// --all-namespaces: conftest runs only package main by default, verdict every package.
			args := []string{"test", "-o", "json", "--all-namespaces", "--no-color", "-p", policy}
			// conftest reads Rego v1 unless told otherwise; verdict reads v0 where OPA can.
			if v, err := os.ReadFile(filepath.Join(filepath.Dir(policy), "rego-version")); err == nil {
				args = append(args, "--rego-version", strings.TrimSpace(string(v)))
			}
			args = append(args, m.objects...)
			out, stderr := run(t, *conftestBin, args, 0, 1)
			var results []struct {
				Filename  string `json:"filename"`
				Namespace string `json:"namespace"`
				Failures  []struct {
					Msg string `json:"msg"`
				} `json:"failures"`
				Warnings []struct {
					Msg string `json:"msg"`
				} `json:"warnings"`
			}
			if err := json.Unmarshal(out, &results); err != nil {
				t.Fatalf("conftest test -o json: %v\nstdout:\n%s\nstderr:\n%s", err, out, stderr)
			}
			// conftest reports per file, not per document: the object key is the file.
			var want []finding
			for _, r := range results {
				for _, f := range r.Failures {
					want = append(want, finding{object: r.Filename, policy: r.Namespace, action: "deny", message: f.Msg})
				}
				for _, w := range r.Warnings {
					want = append(want, finding{object: r.Filename, policy: r.Namespace, action: "warn", message: w.Msg})
				}
			}
			got := verdictFindings(t, verdict, append([]string{"check", "--as-written", "-o", "json", "-p", policy}, m.objects...), nil)
			t.Logf("conftest: %d findings; verdict: %d findings", len(want), len(got))
			compare(t, "conftest test", nil, want, got)
		})
	}
}

// verdictFindings runs verdict check -o json and normalizes its results; with m, each object is its
// content's key, otherwise its file.
func verdictFindings(t *testing.T, verdict string, args []string, m *material) []finding {
	t.Helper()
	out, stderr := run(t, verdict, args, 0, 1, 2)
	var report struct {
		Results []struct {
			File     string `json:"file"`
			Document int    `json:"document"`
			Kind     string `json:"kind"`
			Name     string `json:"name"`
			Policy   string `json:"policy"`
			Binding  string `json:"binding"`
			Action   string `json:"action"`
			Message  string `json:"message"`
		} `json:"results"`
		Errors []struct {
			File     string `json:"file"`
			Document int    `json:"document"`
			Message  string `json:"message"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(out, &report); err != nil {
		t.Fatalf("verdict check -o json: %v\nstdout:\n%s\nstderr:\n%s", err, out, stderr)
	}
	for _, e := range report.Errors {
		t.Errorf("verdict: %s#%d: %s", e.File, e.Document, e.Message)
	}
	if len(stderr) > 0 {
		t.Logf("verdict's standard error:\n%s", stderr)
	}
	var got []finding
	for _, r := range report.Results {
		object := r.File
		if m != nil {
			doc := fmt.Sprintf("%s#%d", r.File, r.Document)
			var ok bool
			if object, ok = m.byDoc[docKey(r.File, r.Document, r.Kind, r.Name)]; !ok {
				t.Errorf("verdict reports %s, which is no object among the inputs", doc)
				object = doc
			}
		}
		got = append(got, finding{object: object, policy: r.Policy, binding: r.Binding, action: r.Action, message: r.Message})
	}
	return got
}

// compare reports every finding that one side has more often than the other, in one table.
func compare(t *testing.T, tool string, m *material, want, got []finding) {
	t.Helper()
	counts := map[finding]int{}
	for _, f := range want {
		counts[f]++
	}
	for _, f := range got {
		counts[f]--
	}
	var diffs []finding
	var sides []string
	for f, n := range counts {
		for ; n > 0; n-- {
			diffs, sides = append(diffs, f), append(sides, "only "+tool)
		}
		for ; n < 0; n++ {
			diffs, sides = append(diffs, f), append(sides, "only verdict")
		}
	}
	if len(diffs) == 0 {
		t.Logf("0 differences: %d findings on both sides", len(want))
		return
	}
	idx := make([]int, len(diffs))
	for i := range idx {
		idx[i] = i
	}
	name := func(f finding) string {
		if m == nil {
			return f.object
		}
		return m.describe(f.object)
	}
	sort.Slice(idx, func(a, b int) bool {
		x, y := diffs[idx[a]], diffs[idx[b]]
		if name(x) != name(y) {
			return name(x) < name(y)
		}
		if x.policy != y.policy {
			return x.policy < y.policy
		}
		if x.binding != y.binding {
			return x.binding < y.binding
		}
		return x.message < y.message
	})
	var b bytes.Buffer
	w := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "SIDE\tOBJECT\tPOLICY\tBINDING\tACTION\tMESSAGE")
	for _, i := range idx {
		f := diffs[i]
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", sides[i], name(f), f.policy, f.binding, f.action, f.message)
	}
	w.Flush()
	t.Errorf("%d differences between %s and verdict check --as-written (%d and %d findings):\n%s", len(diffs), tool, len(want), len(got), b.String())
}

// gatekeeperMaterial collects the library's templates, the constraints of its samples, and every
// sample object of every template (plus the conftest examples' manifests), for the cross product.
func gatekeeperMaterial(t *testing.T) *material {
	t.Helper()
	m := &material{}
	for _, root := range gatekeeperRoots {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yaml") {
				return err
			}
			base := filepath.Base(path)
			inSamples := strings.Contains(filepath.ToSlash(path), "/samples/")
			switch {
			case base == "template.yaml" && !inSamples:
				m.templates = append(m.templates, path)
			case inSamples && strings.HasPrefix(base, "constraint"):
				m.constraints = append(m.constraints, path)
			case inSamples:
				m.objects = append(m.objects, path)
			}
			// suite.yaml, kustomization.yaml, sync.yaml (gator verify's, kustomize's, Gatekeeper's
			// config) are neither.
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	m.constraints = uniqueConstraints(t, m.constraints)
	m.objects = append(m.objects, conftestObjects(t)...)
	m.index(t)
	return m
}

// uniqueConstraints leaves out a constraint file whose constraint has the kind and name of an earlier
// one: gator lets the last one silently replace the first (the constraint client upserts), verdict
// refuses the set ("defined again"), and the cluster keeps the last one applied. The library has such
// a pair (containerlimits' two samples are both K8sContainerLimits container-must-have-limits).
func uniqueConstraints(t *testing.T, files []string) []string {
	t.Helper()
	seen := map[string]string{}
	var out []string
	for _, f := range files {
		set := manifest.Read([]string{f}, nil)
		if err := set.Err(); err != nil {
			t.Fatalf("reading %s: %v", f, err)
		}
		dup := ""
		for _, d := range set.Documents {
			id := d.Object.GetKind() + "/" + d.Object.GetName()
			if first, ok := seen[id]; ok {
				dup = fmt.Sprintf("%s is %s again (first in %s)", f, id, first)
			}
		}
		if dup != "" {
			t.Logf("left out: %s", dup)
			continue
		}
		for _, d := range set.Documents {
			seen[d.Object.GetKind()+"/"+d.Object.GetName()] = f
		}
		out = append(out, f)
	}
	return out
}

// conftestMaterial is every object of the comparison: the conftest examples' manifests and the
// Gatekeeper library's sample objects.
func conftestMaterial(t *testing.T) *material {
	return gatekeeperMaterial(t)
}

func conftestObjects(t *testing.T) []string {
	t.Helper()
	var files []string
	for _, ext := range []string{"*.yaml", "*.json"} {
		f, err := filepath.Glob(filepath.Join(conftestRoot, "*", ext))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f...)
	}
	sort.Strings(files)
	return files
}

func docKey(file string, doc int, kind, name string) string {
	return fmt.Sprintf("%s#%d %s/%s", file, doc, kind, name)
}

// index reads every object file and keys each document by its content.
func (m *material) index(t *testing.T) {
	t.Helper()
	m.where, m.names, m.byDoc = map[string][]string{}, map[string]string{}, map[string]string{}
	set := manifest.Read(m.objects, nil)
	if err := set.Err(); err != nil {
		t.Fatalf("reading the objects: %v", err)
	}
	for _, d := range set.Documents {
		k := m.key(t, d.Object.Object)
		doc := fmt.Sprintf("%s#%d", d.File, d.Index)
		if d.Item != "" {
			doc += "." + d.Item
		}
		// verdict's JSON names an object by file, document, kind and name (the items of a List
		// share their document).
		m.byDoc[docKey(d.File, d.Index, d.Object.GetKind(), d.Object.GetName())] = k
		m.where[k] = append(m.where[k], doc)
		m.count++
	}
}

// key is an object's content as canonical JSON: gator reports the violating object itself, verdict
// its file and document.
func (m *material) key(t *testing.T, obj map[string]any) string {
	t.Helper()
	b, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	b, _ = json.Marshal(v)
	k := string(b)
	if _, ok := m.names[k]; !ok {
		u := &unstructuredish{obj}
		m.names[k] = fmt.Sprintf("%s %s", u.kind(), u.name())
	}
	return k
}

// describe names an object by its files and documents (identical objects in several files are one).
func (m *material) describe(k string) string {
	if docs := m.where[k]; len(docs) > 0 {
		return strings.Join(docs, ",")
	}
	return m.names[k] + " (not among the inputs)"
}

type unstructuredish struct{ obj map[string]any }

func (u *unstructuredish) str(path ...string) string {
	var cur any = u.obj
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return ""
		}
		cur = m[p]
	}
	s, _ := cur.(string)
	return s
}
func (u *unstructuredish) kind() string       { return u.str("kind") }
func (u *unstructuredish) apiVersion() string { return u.str("apiVersion") }
func (u *unstructuredish) name() string       { return u.str("metadata", "name") }

// gatorAction maps a constraint's enforcementAction to verdict's action, as verdict reports it.
func gatorAction(a string) string {
	switch a {
	case "dryrun":
		return "audit"
	case "", "deny":
		return "deny"
	}
	return a
}

func verdictBinary(t *testing.T) string {
	t.Helper()
	if *verdictBin != "" {
		return *verdictBin
	}
	bin := filepath.Join(t.TempDir(), "verdict")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/verdict-dev/verdict/cmd/verdict")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building verdict: %v\n%s", err, out)
	}
	return bin
}

// run runs a tool and returns its standard output and error; an exit code not among codes fails.
func run(t *testing.T, bin string, args []string, codes ...int) ([]byte, []byte) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s: %v", bin, err)
	}
	for _, c := range codes {
		if c == code {
			return stdout.Bytes(), stderr.Bytes()
		}
	}
	t.Fatalf("%s %s: exit %d\nstdout:\n%s\nstderr:\n%s", bin, strings.Join(args, " "), code, stdout.Bytes(), stderr.Bytes())
	return nil, nil
}

func orEmptyList(b []byte) []byte {
	if len(bytes.TrimSpace(b)) == 0 {
		return []byte("[]")
	}
	return b
}

func concat(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}
