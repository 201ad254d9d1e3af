package manifest

import (
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/scheme"
)

// normalizeStrictly is Normalize as it was written first: strict conversion, defaults, back.
func normalizeStrictly(obj *unstructured.Unstructured) (map[string]any, error) {
	typed, err := scheme.Scheme.New(obj.GroupVersionKind())
	if err != nil {
		return obj.Object, nil
	}
	if err := ConvertStrict(obj.Object, typed); err != nil {
		return nil, err
	}
	builtinDefaulter().Default(typed)
	return runtime.DefaultUnstructuredConverter.ToUnstructured(typed)
}

var normalizeCases = []struct{ name, doc string }{
	{"pod", "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: a, image: nginx}]\n"},
	{"unknown field", "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: a, image: nginx, imagePolicy: x}]\n"},
	{"unknown top-level field", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndatum: {a: b}\n"},
	{"empty values dropped", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, labels: {}, annotations: null}\nspec:\n  selector: {matchLabels: {a: b}}\n  template:\n    metadata: {labels: {a: b}}\n    spec: {containers: [{name: a, image: x, env: []}]}\n"},
	{"wrong type", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {replicas: three}\n"},
	{"creationTimestamp null", "apiVersion: v1\nkind: Service\nmetadata: {name: s, creationTimestamp: null}\nspec: {ports: [{port: 80}]}\n"},
	{"secret data", "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {a: YQ==}\nstringData: {b: c}\n"},
}

// Normalize converts leniently and asks the strict converter only when a field went missing: the
// objects and the errors must be those of converting strictly every time.
func TestNormalizeMatchesStrictConversion(t *testing.T) {
	check := func(t *testing.T, name string, obj *unstructured.Unstructured) {
		t.Helper()
		want, wantErr := normalizeStrictly(obj.DeepCopy())
		got, gotErr := Normalize(obj.DeepCopy())
		if (wantErr == nil) != (gotErr == nil) || (gotErr != nil && !strings.HasSuffix(gotErr.Error(), wantErr.Error())) {
			t.Fatalf("%s: error %v, strictly %v", name, gotErr, wantErr)
		}
		if gotErr == nil && !reflect.DeepEqual(got.Object, want) {
			t.Fatalf("%s: normalized to\n%v\nstrictly\n%v", name, got.Object, want)
		}
	}
	for _, tc := range normalizeCases {
		t.Run(tc.name, func(t *testing.T) {
			set := Decode(tc.name+".yaml", []byte(tc.doc))
			if len(set.Documents) != 1 {
				t.Fatalf("test document: %v", set.Errors)
			}
			check(t, tc.name, set.Documents[0].Object)
		})
	}
	t.Run("test data", func(t *testing.T) {
		n := 0
		filepath.WalkDir("..", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() && (d.Name() == ".git" || d.Name() == "bin") {
				return filepath.SkipDir
			}
			if !strings.HasSuffix(p, ".yaml") || !strings.Contains(p, "testdata") {
				return nil
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return nil
			}
			for _, d := range Decode(p, data).Documents {
				if scheme.Scheme.Recognizes(d.Object.GroupVersionKind()) {
					check(t, p, d.Object)
					n++
				}
			}
			return nil
		})
		if n < 100 {
			t.Fatalf("only %d built-in objects in the test data", n)
		}
		t.Logf("%d built-in objects normalized both ways", n)
	})
}
