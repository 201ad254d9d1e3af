package typedconv

import (
	"fmt"
	"math"
	"reflect"
	"sort"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/randfill"
)

// outcome is what a conversion gives: the object, the error, or the panic.
type outcome struct {
	object map[string]any
	err    string
	panic  string
}

func convert(f func(any) (map[string]any, error), obj any) (o outcome) {
	defer func() {
		if p := recover(); p != nil {
			o.panic = fmt.Sprint(p)
		}
	}()
	u, err := f(obj)
	if err != nil {
		o.err = err.Error()
	}
	o.object = u
	return o
}

func compare(t *testing.T, what string, obj any) {
	t.Helper()
	want := convert(runtime.DefaultUnstructuredConverter.ToUnstructured, obj)
	got := convert(ToUnstructured, obj)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: ToUnstructured\n got %#v\nwant %#v (apimachinery's)", what, got, want)
	}
}

// filler fills API objects at random, with valid quantities and times half of the time (the
// others keep randfill's own, an empty amount with a random format).
func filler(seed int64) *randfill.Filler {
	f := randfill.NewWithSeed(seed).NilChance(0.25).NumElements(0, 2).MaxDepth(8).Funcs(rawExtension)
	if seed%2 == 0 {
		f = f.Funcs(
			func(q *resource.Quantity, c randfill.Continue) {
				*q = *resource.NewMilliQuantity(c.Int63n(1<<20), []resource.Format{resource.DecimalSI, resource.BinarySI, resource.DecimalExponent}[c.Intn(3)])
			},
			func(tm *metav1.Time, c randfill.Continue) {
				if c.Intn(4) > 0 {
					*tm = metav1.NewTime(time.Unix(c.Int63n(1<<32), 0))
				}
			},
		)
	}
	return f
}

// rawExtension fills an embedded object with JSON (randfill cannot fill its runtime.Object).
func rawExtension(e *runtime.RawExtension, c randfill.Continue) {
	switch c.Intn(4) {
	case 0:
		e.Raw = nil
	case 1:
		e.Raw = []byte(`{"apiVersion":"v1","kind":"ConfigMap","data":{"a":"b"},"n":1}`)
	case 2:
		e.Raw = []byte(`[1,"two",null]`)
	default:
		e.Raw = []byte(`"text"`)
	}
}

// TestMatchesApimachineryOnEveryBuiltinType fills every type of client-go's scheme (every built-in
// kind, its list and options) at random and holds the conversion to apimachinery's.
func TestMatchesApimachineryOnEveryBuiltinType(t *testing.T) {
	seeds := 12
	if testing.Short() {
		seeds = 3
	}
	types := scheme.Scheme.AllKnownTypes()
	names := make([]string, 0, len(types))
	byName := map[string]reflect.Type{}
	for gvk, typ := range types {
		name := gvk.String()
		names = append(names, name)
		byName[name] = typ
	}
	sort.Strings(names)
	planned := 0
	for _, name := range names {
		typ := byName[name]
		if planOf(typ).object != nil {
			planned++
		}
		for seed := 0; seed < seeds; seed++ {
			obj := reflect.New(typ).Interface()
			if !fill(filler(int64(seed)), obj) {
				break
			}
			compare(t, fmt.Sprintf("%s, seed %d", name, seed), obj)
		}
	}
	// The point is speed: nearly every built-in type must be planned, not left to apimachinery.
	if planned < len(names)*9/10 {
		t.Errorf("%d of %d built-in types are planned", planned, len(names))
	}
}

// fill fills obj, and says false for a type randfill cannot fill (an interface field).
func fill(f *randfill.Filler, obj any) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	f.Fill(obj)
	return true
}

type withInterface struct {
	Name  string `json:"name"`
	Value any    `json:"value,omitempty"`
}

type withIntKeys struct {
	M map[int]string `json:"m"`
}

type withUnexported struct {
	Name string `json:"name"`
	kept int
}

type withArray struct {
	A [2]string `json:"a"`
}

type withUint struct {
	U uint64 `json:"u"`
}

type inner struct {
	X string `json:"x,omitempty"`
	Y *int   `json:"y"`
}

type shapes struct {
	inner `json:",inline"`
	*corev1.ObjectReference
	Skipped    string            `json:"-"`
	NoTag      string            // named by its Go name
	EmptyName  string            `json:",omitempty"`
	Bytes      []byte            `json:"bytes"`
	NilBytes   []byte            `json:"nilBytes"`
	Ptr        *int              `json:"ptr"`
	NilSlice   []string          `json:"nilSlice"`
	EmptyMap   map[string]string `json:"emptyMap,omitempty"`
	Time       metav1.Time       `json:"time"`
	ZeroTime   metav1.Time       `json:"zeroTime,omitempty"`
	OmitZero   metav1.Time       `json:"omitZero,omitzero"`
	Quantities corev1.ResourceList
	Float      float32            `json:"float"`
	Nested     map[string][]inner `json:"nested"`
}

type inlineUnexported struct {
	inner `json:",inline"`
}

func TestMatchesApimachineryOnEdgeCases(t *testing.T) {
	one := 1
	tests := []struct {
		name string
		obj  any
	}{
		{"an interface field (left to apimachinery)", &withInterface{Name: "a", Value: map[string]any{"b": int64(1)}}},
		{"a map with int keys (apimachinery's error)", &withIntKeys{M: map[int]string{1: "a"}}},
		{"an unexported field (left to apimachinery)", &withUnexported{Name: "a", kept: 2}},
		{"an array (apimachinery's error)", &withArray{A: [2]string{"a", "b"}}},
		{"an unsigned value in range", &withUint{U: 7}},
		{"an unsigned value past int64", &withUint{U: math.MaxUint64}},
		{"the shapes of fields", &shapes{
			inner: inner{X: "x", Y: &one}, ObjectReference: &corev1.ObjectReference{Kind: "Pod", Name: "p"},
			Skipped: "s", NoTag: "n", EmptyName: "e", Bytes: []byte("hello"), Ptr: &one,
			Time: metav1.NewTime(time.Unix(1700000000, 0)), OmitZero: metav1.NewTime(time.Unix(1, 0)),
			Quantities: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1500m")},
			Float:      1.5, Nested: map[string][]inner{"a": {{X: "1"}, {}}},
		}},
		{"the zero shapes", &shapes{}},
		{"an unexported inline struct", &inlineUnexported{inner: inner{X: "x"}}},
		{"a Pod", &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Labels: map[string]string{"a": "b"}},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx"}}}}},
	}
	for _, tt := range tests {
		compare(t, tt.name, tt.obj)
	}
}

func TestNotAPointerToAStruct(t *testing.T) {
	for _, obj := range []any{nil, corev1.Pod{}, (*corev1.Pod)(nil), &[]string{"a"}} {
		compare(t, fmt.Sprintf("%T", obj), obj)
	}
}

// fuzzTypes are the types FuzzToUnstructured fills.
var fuzzTypes = []reflect.Type{
	reflect.TypeFor[corev1.Pod](), reflect.TypeFor[corev1.Service](), reflect.TypeFor[corev1.PersistentVolume](),
	reflect.TypeFor[corev1.Node](), reflect.TypeFor[shapes](), reflect.TypeFor[withUint](),
}

func FuzzToUnstructured(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	f.Add([]byte("\x04some bytes to fill the shapes with"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		obj := reflect.New(fuzzTypes[int(data[0])%len(fuzzTypes)]).Interface()
		randfill.NewFromGoFuzz(data[1:]).NilChance(0.25).NumElements(0, 2).MaxDepth(6).Funcs(rawExtension).Fill(obj)
		compare(t, fmt.Sprintf("%T", obj), obj)
	})
}
