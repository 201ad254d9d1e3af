package manifest

import (
	"strings"
	"testing"
)

func TestDecode(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []string // kind/name of each document, in order
		index   []int    // document index of each, when checked
		line    []int    // start line of each, when checked
		wantErr string
	}{
		{name: "single", in: "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n", want: []string{"Pod/a"}},
		{
			name:  "multi-document with leading separator and comments",
			in:    "---\napiVersion: v1\nkind: Pod\nmetadata: {name: a}\n--- # next\n# only a comment\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: b}\n",
			want:  []string{"Pod/a", "Pod/b"},
			index: []int{0, 2},
			line:  []int{2, 8},
		},
		{name: "separator-like content is not a separator", in: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n  x: |\n    ---notaseparator\n", want: []string{"ConfigMap/a"}},
		{name: "json", in: `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"j"}}`, want: []string{"Pod/j"}},
		{
			name: "list kind expands its items",
			in:   "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Pod, metadata: {name: a}}\n- {apiVersion: v1, kind: Service, metadata: {name: b}}\n",
			want: []string{"Pod/a", "Service/b"}, index: []int{0, 0},
		},
		{name: "typed list", in: "apiVersion: v1\nkind: PodList\nitems: []\n", want: nil},
		{name: "empty file", in: "", want: nil},
		{name: "null document", in: "null\n", want: nil},
		{name: "missing kind", in: "apiVersion: v1\nmetadata: {name: a}\n", wantErr: "test.yaml: document 0 (line 1): missing kind"},
		{name: "missing apiVersion", in: "kind: Pod\n", wantErr: "document 0 (line 1): Pod: missing apiVersion"},
		{name: "invalid yaml names the document", in: "apiVersion: v1\nkind: Pod\n---\napiVersion: v1\nkind: [\n", wantErr: "test.yaml: document 1 (line 4): invalid YAML"},
		{name: "scalar document", in: "hello\n", wantErr: "not a string"},
		{name: "list document", in: "- a\n- b\n", wantErr: "not a list"},
		{name: "metadata not an object", in: "apiVersion: v1\nkind: Pod\nmetadata: 3\n", wantErr: "metadata must be an object"},
		{name: "list item without kind", in: "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1}\n", wantErr: "List: items[0]: missing kind"},
		{name: "invalid json", in: `{"apiVersion": "v1", "kind": `, wantErr: "invalid JSON"},
		{name: "alias bomb", in: aliasBomb, wantErr: "document 0 (line 1): invalid YAML"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			docs, err := Decode("test.yaml", []byte(tc.in))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want it to contain %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			var got []string
			for _, d := range docs {
				got = append(got, d.Object.GetKind()+"/"+d.Object.GetName())
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Fatalf("documents = %v, want %v", got, tc.want)
			}
			for i, idx := range tc.index {
				if docs[i].Index != idx {
					t.Errorf("document %d: index = %d, want %d", i, docs[i].Index, idx)
				}
			}
			for i, l := range tc.line {
				if docs[i].Line != l {
					t.Errorf("document %d: line = %d, want %d", i, docs[i].Line, l)
				}
			}
		})
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
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata:\n")
	line := strings.Repeat("x", 1000)
	for i := 0; b.Len() < 10<<20; i++ {
		b.WriteString("  k")
		b.WriteString(strings.Repeat("0", 1))
		b.WriteString(itoa(i))
		b.WriteString(": ")
		b.WriteString(line)
		b.WriteString("\n")
	}
	docs, err := Decode("big.yaml", []byte(b.String()))
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

func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		"apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n",
		"---\n---\napiVersion: v1\nkind: List\nitems: [{apiVersion: v1, kind: Pod}]\n",
		`{"apiVersion":"v1","kind":"Pod"}`,
		aliasBomb,
		"a: &a [*a]\n",
		"kind: Pod\napiVersion: 1\nmetadata: [1]\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		docs, err := Decode("fuzz.yaml", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.yaml: ") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		for _, d := range docs {
			if d.Object.GetKind() == "" || d.Object.GetAPIVersion() == "" {
				t.Fatalf("document %d decoded without kind or apiVersion", d.Index)
			}
		}
	})
}
