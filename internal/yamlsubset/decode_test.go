package yamlsubset

import (
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	utiljson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/yaml"
)

// goYAML decodes doc as verdict did before this package: sigs.k8s.io/yaml, then apimachinery's JSON.
func goYAML(doc []byte) (any, error) {
	js, err := yaml.YAMLToJSON(doc)
	if err != nil {
		return nil, err
	}
	var v any
	err = utiljson.Unmarshal(js, &v)
	return v, err
}

var cases = []struct {
	name string
	doc  string
	want bool // whether the subset takes it
}{
	{"flat", "apiVersion: v1\nkind: Pod\n", true},
	{"nested", "metadata:\n  name: web\n  labels:\n    app: web\n", true},
	{"sequence of mappings", "items:\n  - name: a\n    port: 80\n  - name: b\n", true},
	{"indentless sequence", "rules:\n- apiGroups: [\"\"]\n  resources: [pods]\n  verbs: [get, list]\nkind: Role\n", true},
	{"flow", "a: {b: [1, -2, x], c: {}, d: [], e: 'it''s', f: \"q\\\"\\u00e9\"}\n", true},
	{"nulls and booleans", "a:\nb: ~\nc: null\nd: true\ne: yes\nf: off\ng: N\n", true},
	{"comments", "# head\na: 1 # one\n  # deep comment\nb: \"x # not a comment\"\nc: x#y\n", true},
	{"empty entries", "a:\n-\n- # c\n- x\n", true},
	{"value on the next line", "a:\n  b\nc: d\n", true},
	{"args", "args: [--v=2, -v, ./x, .config]\ncmd:\n- --leader-elect\n- /bin/sh\n", true},
	{"urls and images", "image: nginx:1.25\nurl: http://example.com:8080/x\nk: a :b\n", true},
	{"quoted keys", "\"a b\": 1\n'c': [x]\n", true},
	{"deep compact", "- a: 1\n  b:\n  - c: 2\n    d: [3]\n- e\n", false}, // root must be a mapping
	{"compact in mapping", "x:\n- a: 1\n  b:\n  - c: 2\n    d: [3]\n- e\n", true},
	{"unicode", "a: héllo\nb: \"\\u2028\"\n", true},
	{"quantities", "cpu: 500m\nmemory: 128Mi\nport: 8080/TCP\nv: 1.2.3x\nt: 10:30\nh: 12abc\n", true},
	{"hex float", "a: 0x1p-2\n", false},
	{"octal prefix", "a: 0o17\n", false},
	{"binary", "a: 0b101\n", false},
	{"version", "a: 1.2.3\n", false},
	{"exponent", "a: 1e3\n", false},
	{"date time", "a: 2001-12-14t21:59:43.10Z\n", false},
	{"big int", "a: 1234567890123456789\n", false},
	{"float", "a: 1.5\n", false},
	{"leading zero", "a: 0755\n", false},
	{"underscore int", "a: 1_000\n", false},
	{"hex", "a: 0x1f\n", false},
	{"timestamp", "a: 2001-12-14\n", false},
	{"inf", "a: .inf\n", false},
	{"block scalar", "a: |\n  x\n", false},
	{"folded scalar", "a: >-\n  x\n", false},
	{"anchor", "a: &x 1\nb: *x\n", false},
	{"merge", "a: {x: 1}\nb:\n  <<: {x: 2}\n", false},
	{"tag", "a: !!str 1\n", false},
	{"multi-line plain", "a: b\n  c\n", false},
	{"multi-line quoted", "a: \"b\n  c\"\n", false},
	{"multi-line flow", "a: [b,\n  c]\n", false},
	{"duplicate key", "a: 1\na: 2\n", false},
	{"tab", "a:\t1\n", false},
	{"crlf", "a: 1\r\n", false},
	{"key special", "on: push\n", false},
	{"key number", "80: x\n", false},
	{"colon space in value", "a: b: c\n", false},
	{"trailing comma", "a: [b, ]\n", false},
	{"nested compact sequence", "a:\n- - b\n", false},
	{"bad indent", "a:\n    b: 1\n  c: 2\n", false},
	{"entry after value", "a: 1\n- b\n", false},
	{"directive", "%YAML 1.1\na: 1\n", false},
	{"document end", "a: 1\n...\n", false},
	{"scalar root", "hello\n", false},
	{"sequence root", "- a\n", false},
	{"unknown escape", "a: \"\\x41\"\n", false},
	{"surrogate escape", "a: \"\\ud800\"\n", false},
	{"control", "a: \"\x01\"\n", false},
	{"nel", "a: b\u0085c\n", false},
	{"comment without space after quote", "a: 'b'#c\n", false},
}

func TestDecode(t *testing.T) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := Decode([]byte(tc.doc))
			if ok != tc.want {
				t.Fatalf("Decode took it: %v, want %v (got %#v)", ok, tc.want, got)
			}
			if ok {
				sameAsGoYAML(t, []byte(tc.doc), got)
			}
		})
	}
}

func sameAsGoYAML(t *testing.T, doc []byte, got map[string]any) {
	t.Helper()
	want, err := goYAML(doc)
	if err != nil {
		t.Fatalf("the subset read %q, which go-yaml refuses: %v", doc, err)
	}
	if !reflect.DeepEqual(any(got), want) {
		t.Fatalf("for %q\n subset: %#v\ngo-yaml: %#v", doc, got, want)
	}
}

var separator = regexp.MustCompile(`(?m)^---.*$`)

// corpus is every YAML document of the repository's and the shared test data.
func corpus(t testing.TB) [][]byte {
	var docs [][]byte
	for _, root := range []string{"../..", "../../../shared/testdata"} {
		filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			if d.IsDir() && (d.Name() == ".git" || d.Name() == "bin" || d.Name() == "node_modules") {
				return filepath.SkipDir
			}
			if ext := filepath.Ext(p); ext != ".yaml" && ext != ".yml" {
				return nil
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return nil
			}
			for _, doc := range separator.Split(string(data), -1) {
				if strings.TrimSpace(doc) != "" {
					docs = append(docs, []byte(doc))
				}
			}
			return nil
		})
	}
	return docs
}

// TestCorpus reads every YAML document of the test data both ways: whatever the subset takes must
// be what go-yaml gives.
func TestCorpus(t *testing.T) {
	docs := corpus(t)
	if len(docs) < 500 {
		t.Fatalf("only %d documents found: is the test data missing?", len(docs))
	}
	taken := 0
	for _, doc := range docs {
		got, ok := Decode(doc)
		if !ok {
			continue
		}
		taken++
		sameAsGoYAML(t, doc, got)
	}
	t.Logf("the subset took %d of %d documents", taken, len(docs))
}

func FuzzDecode(f *testing.F) {
	for _, tc := range cases {
		f.Add([]byte(tc.doc))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		got, ok := Decode(doc)
		if !ok {
			return
		}
		sameAsGoYAML(t, doc, got)
	})
}

// benchmarkCorpus runs decode on every document of the corpus, b.N times.
func benchmarkCorpus(b *testing.B, decode func([]byte)) {
	docs := corpus(b)
	var size int64
	for _, d := range docs {
		size += int64(len(d))
	}
	b.SetBytes(size)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		for _, d := range docs {
			decode(d)
		}
	}
}

func BenchmarkDecode(b *testing.B) { benchmarkCorpus(b, func(d []byte) { Decode(d) }) }

func BenchmarkGoYAML(b *testing.B) { benchmarkCorpus(b, func(d []byte) { goYAML(d) }) }
