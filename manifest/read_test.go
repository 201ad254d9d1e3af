package manifest

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDecode(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		want  []string // kind/name of each document, in order
		index []int    // document number of each, when checked
		line  []int    // start line of each, when checked
		item  []string // List item of each, when checked
		errs  []string // the errors, in order
	}{
		{name: "single", in: "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n", want: []string{"Pod/a"}, index: []int{1}, line: []int{1}},
		{
			name:  "multi-document with leading separator and comments",
			in:    "---\napiVersion: v1\nkind: Pod\nmetadata: {name: a}\n--- # next\n# only a comment\n---\n\n# the pod b\napiVersion: v1\nkind: Pod\nmetadata: {name: b}\n",
			want:  []string{"Pod/a", "Pod/b"},
			index: []int{1, 3},
			line:  []int{2, 10},
		},
		{name: "separator-like content is not a separator", in: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n  x: |\n    ---notaseparator\n", want: []string{"ConfigMap/a"}},
		{name: "json", in: `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"j"}}`, want: []string{"Pod/j"}},
		{
			name: "list kind expands its items",
			in:   "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Pod, metadata: {name: a}}\n- {apiVersion: v1, kind: Service, metadata: {name: b}}\n",
			want: []string{"Pod/a", "Service/b"}, index: []int{1, 1}, item: []string{"items[0]", "items[1]"},
		},
		{name: "typed list items take the list's kind", in: "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleList\nitems:\n- metadata: {name: r}\n",
			want: []string{"Role/r"}},
		{name: "empty typed list", in: "apiVersion: v1\nkind: PodList\nitems: []\n", want: nil},
		{name: "empty file", in: "", want: nil},
		{name: "null document", in: "null\n", want: nil},
		{name: "missing kind", in: "apiVersion: v1\nmetadata: {name: a}\n", errs: []string{"test.yaml:1: document 1: missing kind"}},
		{name: "missing apiVersion", in: "kind: Pod\n", errs: []string{"test.yaml:1: document 1: Pod: missing apiVersion"}},
		{
			name: "invalid YAML at its absolute line, and the other documents still read",
			in:   "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: [b\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: c}\n",
			want: []string{"Pod/a", "Pod/c"}, index: []int{1, 3}, line: []int{1, 10},
			errs: []string{"test.yaml:8: document 2: invalid YAML: did not find expected ',' or ']'"},
		},
		{name: "scalar document", in: "hello\n", errs: []string{"test.yaml:1: document 1: a manifest must be an object with apiVersion and kind, not a string"}},
		{name: "list document", in: "- a\n- b\n", errs: []string{"test.yaml:1: document 1: a manifest must be an object with apiVersion and kind, not a list"}},
		{name: "metadata of the wrong type", in: "apiVersion: v1\nkind: Pod\nmetadata: 3\n", errs: []string{"test.yaml:1: document 1: Pod: metadata: expected object, got number 3"}},
		{name: "kind of the wrong type", in: "apiVersion: v1\nkind: [Pod]\n", errs: []string{"test.yaml:1: document 1: kind must be a non-empty string, not array"}},
		{name: "list item not an object", in: "apiVersion: v1\nkind: List\nitems: [3]\n", errs: []string{"test.yaml:1: document 1: List: items[0]: expected object, got number 3"}},
		{name: "alias bomb refused", in: aliasBomb, errs: []string{"test.yaml:1: document 1: invalid YAML"}},
		{name: "a kustomization is no object", in: "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [a.yaml]\n", want: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := Decode("test.yaml", []byte(tc.in))
			var got, errs []string
			for _, d := range s.Documents {
				got = append(got, d.Object.GetKind()+"/"+d.Object.GetName())
			}
			for _, e := range s.Errors {
				errs = append(errs, e.Error())
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("documents (-want +got):\n%s", diff)
			}
			if len(errs) != len(tc.errs) {
				t.Fatalf("errors = %q, want %q", errs, tc.errs)
			}
			for i := range errs {
				if !strings.HasPrefix(errs[i], tc.errs[i]) {
					t.Errorf("error %d = %q, want it to start with %q", i, errs[i], tc.errs[i])
				}
			}
			for i, idx := range tc.index {
				if s.Documents[i].Index != idx {
					t.Errorf("document %d: number = %d, want %d", i, s.Documents[i].Index, idx)
				}
			}
			for i, l := range tc.line {
				if s.Documents[i].Line != l {
					t.Errorf("document %d: line = %d, want %d", i, s.Documents[i].Line, l)
				}
			}
			for i, it := range tc.item {
				if s.Documents[i].Item != it {
					t.Errorf("document %d: item = %q, want %q", i, s.Documents[i].Item, it)
				}
			}
		})
	}
}

// tree writes files under a temporary folder and returns its path.
func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n"

func TestReadSkipsWhatIsNoObject(t *testing.T) {
	dir := tree(t, map[string]string{
		"app/pod.yaml":                      pod,
		"app/kustomization.yaml":            "resources: [pod.yaml]\n",
		"app/component.yaml":                "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n",
		"app/settings.json":                 `{"editor": "vim"}`,
		"chart/Chart.yaml":                  "apiVersion: v2\nname: c\n",
		"chart/values.yaml":                 "replicas: 1\n",
		"chart/templates/deploy.yaml":       "kind: {{ .Values.kind }}\n",
		"values.yaml":                       "image: x\n",
		".github/workflows/ci.yaml":         "on: push\n",
		"..2026_12_01/hidden-mount.yaml":    pod,
		"README.md":                         "# not read\n",
		"app/broken.yaml":                   "apiVersion: v1\nkind: [\n",
		"app/typed.yaml":                    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
		"app/nested/deeper/more/config.yml": "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n",
	})
	s := Read([]string{dir}, nil)
	var got []string
	for _, d := range s.Documents {
		rel, _ := filepath.Rel(dir, d.File)
		got = append(got, rel+" "+d.Object.GetKind())
	}
	want := []string{"app/nested/deeper/more/config.yml Secret", "app/pod.yaml Pod", "app/typed.yaml ConfigMap"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("documents (-want +got):\n%s", diff)
	}
	if len(s.Errors) != 1 || !strings.Contains(s.Errors[0].Error(), "app/broken.yaml:2: document 1: invalid YAML") {
		t.Errorf("errors = %v, want the broken file's", s.Err())
	}
	notes := strings.Join(s.Notes, "\n")
	for _, want := range []string{
		"app/kustomization.yaml: skipped, a kustomize file",
		"app/component.yaml:1: document 1: skipped, a Component file",
		"app/settings.json:1: document 1: skipped, not a Kubernetes object (no kind)",
		"chart: skipped, a Helm chart",
		"values.yaml: skipped, Helm values",
	} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}
}

func TestReadNamedFileWithoutKindIsAnError(t *testing.T) {
	dir := tree(t, map[string]string{"values.yaml": "replicas: 1\n"})
	s := Read([]string{filepath.Join(dir, "values.yaml")}, nil)
	if len(s.Errors) != 1 || !strings.Contains(s.Errors[0].Error(), "values.yaml:1: document 1: missing kind") {
		t.Errorf("errors = %v, want missing kind", s.Err())
	}
}

func TestReadFollowsSymlinkedRoots(t *testing.T) {
	dir := tree(t, map[string]string{"real/pod.yaml": pod, "real/sub/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"})
	link := filepath.Join(dir, "link")
	if err := os.Symlink(filepath.Join(dir, "real"), link); err != nil {
		t.Fatal(err)
	}
	// A link to a folder inside the walk, and a cycle back to the root, as a ConfigMap mount has
	// ..data; the cycle must end.
	if err := os.Symlink(filepath.Join(dir, "real", "sub"), filepath.Join(dir, "real", "also-sub")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "real"), filepath.Join(dir, "real", "sub", "back")); err != nil {
		t.Fatal(err)
	}
	s := Read([]string{link}, nil)
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range s.Documents {
		got = append(got, d.File)
	}
	if len(got) < 2 || !strings.HasPrefix(got[0], link) {
		t.Errorf("read %q through the link %s, want its files under the link's path", got, link)
	}
}

func TestReadRefusesSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "pipe.yaml")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	for _, path := range []string{fifo, "/dev/zero", "/dev/null"} {
		s := Read([]string{path}, nil)
		if len(s.Errors) != 1 || !strings.Contains(s.Errors[0].Error(), "not a regular file") {
			t.Errorf("%s: errors = %v, want it refused as not a regular file", path, s.Err())
		}
	}
}

// endless is standard input that never ends, as `yes |` would be.
type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'a'
	}
	return len(p), nil
}

func TestReadBoundsStandardInput(t *testing.T) {
	s := Read([]string{Stdin}, io.LimitReader(endless{}, MaxFileBytes+10))
	if len(s.Errors) != 1 || !strings.Contains(s.Errors[0].Error(), "over the limit") {
		t.Errorf("errors = %v, want the input refused at the limit", s.Err())
	}
	if s := Read([]string{Stdin, Stdin}, strings.NewReader(pod)); len(s.Documents) != 1 || len(s.Errors) != 1 {
		t.Errorf("stdin named twice: %d documents, errors %v; want one read and an error", len(s.Documents), s.Err())
	}
}

func TestReadTakesKustomizeOriginsFromStdin(t *testing.T) {
	in := "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  annotations:\n    config.kubernetes.io/origin: |\n      path: base/pod.yaml\n---\n" + pod
	s := Read([]string{Stdin}, strings.NewReader(in))
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	got := []string{s.Documents[0].Source(), s.Documents[1].Source()}
	if diff := cmp.Diff([]string{"base/pod.yaml", "-:9"}, got); diff != "" {
		t.Errorf("sources (-want +got):\n%s", diff)
	}
}

func TestReadMissingPath(t *testing.T) {
	s := Read([]string{"no/such/dir", "no/such.yaml"}, nil)
	if len(s.Errors) != 2 || s.Errors[0].Error() != "no/such/dir: no such file or directory" {
		t.Errorf("errors = %v", s.Err())
	}
}

// aliasBomb is the "billion laughs" YAML: each level multiplies the size by nine.
var aliasBomb = `a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
`

func TestDecodeLargeDocument(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata:\n")
	line := strings.Repeat("x", 1000)
	for i := 0; b.Len() < 10<<20; i++ {
		b.WriteString("  k")
		b.WriteString(strings.Repeat("0", 1))
		b.WriteString(string(rune('a' + i%26)))
		b.WriteString(strings.Repeat("z", i/26%50))
		b.WriteString(itoa(i))
		b.WriteString(": ")
		b.WriteString(line)
		b.WriteString("\n")
	}
	docs, err := Decode("big.yaml", b.Bytes()).Result()
	if err != nil {
		t.Fatalf("10 MiB document: %v", err)
	}
	if len(docs) != 1 || len(docs[0].Object.Object["data"].(map[string]any)) < 10000 {
		t.Fatalf("10 MiB document decoded wrong: %d documents", len(docs))
	}
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var d []byte
	for ; i > 0; i /= 10 {
		d = append([]byte{byte('0' + i%10)}, d...)
	}
	return string(d)
}

// FuzzDecode: any input yields documents with kind and apiVersion, errors that name the file and
// a document (or the file), and lines within the input.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		"apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n",
		"---\n---\napiVersion: v1\nkind: List\nitems: [{apiVersion: v1, kind: Pod}]\n",
		`{"apiVersion":"v1","kind":"Pod"}`,
		aliasBomb,
		"a: &a [*a]\n",
		"kind: Pod\napiVersion: 1\nmetadata: [1]\n",
		"apiVersion: v1\nkind: Pod\n--- # x\n\n# c\nkind: [\n---\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n",
		"apiVersion: v1\nkind: RoleList\nitems:\n- metadata: {name: r}\n- 3\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s := Decode("fuzz.yaml", data)
		lines := bytes.Count(data, []byte("\n")) + 1
		for _, e := range s.Errors {
			if !strings.HasPrefix(e.Error(), "fuzz.yaml") || e.Document < 1 {
				t.Fatalf("error does not name the file and document: %v", e)
			}
			if e.Line < 1 || e.Line > lines {
				t.Fatalf("error at line %d of a %d-line input: %v", e.Line, lines, e)
			}
		}
		for _, d := range s.Documents {
			if d.Object.GetKind() == "" || d.Object.GetAPIVersion() == "" {
				t.Fatalf("document %d decoded without kind or apiVersion", d.Index)
			}
			if d.Line < 1 || d.Line > lines || d.Index < 1 {
				t.Fatalf("document %d at line %d of a %d-line input", d.Index, d.Line, lines)
			}
		}
	})
}

func TestFieldErrorsPointAtTheField(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{name: "scalar", in: "# a comment\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  replicas: three\n",
			want: `f.yaml:6: document 1: Deployment "d": spec.replicas: expected integer, got string "three"`},
		{name: "in the second item of a list", in: "---\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    ports: [{containerPort: 80}]\n  - name: b\n    ports:\n    - containerPort: 80\n    - containerPort: http\n",
			want: `f.yaml:12: document 1: Pod "p": spec.containers[1].ports[1].containerPort: expected integer, got string "http"`},
		{name: "JSON", in: "{\"apiVersion\": \"v1\", \"kind\": \"Pod\",\n \"metadata\": {\"name\": \"p\", \"labels\": [\"a\"]}}",
			want: `f.yaml:2: document 1: Pod "p": metadata.labels: expected object, got array`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			docs, err := Decode("f.yaml", []byte(tc.in)).Result()
			if err != nil {
				t.Fatal(err)
			}
			_, err = Normalize(docs[0].Object)
			if err == nil {
				t.Fatal("no error")
			}
			if got := docs[0].Wrap(err).Error(); got != tc.want {
				t.Errorf("error = %q, want %q", got, tc.want)
			}
		})
	}
}
