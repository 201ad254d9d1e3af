package typedconv

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand"
	"reflect"
	"sort"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
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
	names := builtinTypeNames()
	planned := 0
	for _, name := range names {
		typ := scheme.Scheme.AllKnownTypes()[name]
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

// builtinTypeNames are the kinds of client-go's scheme, in order.
func builtinTypeNames() []schema.GroupVersionKind {
	var names []schema.GroupVersionKind
	for gvk := range scheme.Scheme.AllKnownTypes() {
		names = append(names, gvk)
	}
	sort.Slice(names, func(i, j int) bool { return names[i].String() < names[j].String() })
	return names
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

// mergingRoot unmarshals into what it holds, keeping fields the JSON does not name.
type mergingRoot struct {
	A, B string
}

func (m *mergingRoot) UnmarshalJSON(data []byte) error {
	var in map[string]string
	if err := json.Unmarshal(data, &in); err != nil {
		return err
	}
	for k, v := range in {
		switch k {
		case "a":
			m.A = v
		case "b":
			m.B = v
		}
	}
	return nil
}

func TestFromUnstructuredLeavesARootUnmarshalerItsObject(t *testing.T) {
	want, got := &mergingRoot{B: "kept"}, &mergingRoot{B: "kept"}
	u := map[string]any{"a": "set"}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u, want); err != nil {
		t.Fatal(err)
	}
	if err := FromUnstructured(u, got); err != nil {
		t.Fatal(err)
	}
	if *got != *want {
		t.Errorf("FromUnstructured gave %+v, apimachinery %+v", *got, *want)
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

// decoded is what converting into a type gives: the object, the error, or the panic.
type decoded struct {
	object any
	err    string
	panic  string
}

func decode(f func(map[string]any, any) error, u map[string]any, typ reflect.Type) (d decoded) {
	obj := reflect.New(typ).Interface()
	defer func() {
		if p := recover(); p != nil {
			d.panic = fmt.Sprint(p)
		}
	}()
	if err := f(u, obj); err != nil {
		d.err = err.Error()
	}
	d.object = obj
	return d
}

func compareFrom(t *testing.T, what string, u map[string]any, typ reflect.Type) {
	t.Helper()
	want := decode(runtime.DefaultUnstructuredConverter.FromUnstructured, runtime.DeepCopyJSON(u), typ)
	got := decode(FromUnstructured, runtime.DeepCopyJSON(u), typ)
	if got.err != "" && want.err != "" {
		// What a failed conversion left in the object is not used; which of two wrong values in a
		// map is reported first depends on the map's order, in apimachinery too.
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: FromUnstructured\n got %#v\nwant %#v (apimachinery's)", what, got, want)
	}
}

// mutate changes some values of u at random into values of other JSON types, and adds unknown
// fields, so that conversions meet what the API server would refuse.
func mutate(u any, r *rand.Rand) any {
	others := []any{"text", int64(7), 2.5, 3.0, true, nil, []any{"a"}, map[string]any{"x": int64(1)}, "1500m", int64(-1), 1e300}
	switch u := u.(type) {
	case map[string]any:
		for k, v := range u {
			u[k] = mutate(v, r)
		}
		if r.Intn(8) == 0 {
			u["unknownField"] = others[r.Intn(len(others))]
		}
		return u
	case []any:
		for i := range u {
			u[i] = mutate(u[i], r)
		}
		return u
	}
	if r.Intn(6) == 0 {
		return others[r.Intn(len(others))]
	}
	return u
}

// TestFromUnstructuredMatchesApimachinery converts every built-in type filled at random into its
// unstructured form, as it is and mutated, and back, and holds the result to apimachinery's.
func TestFromUnstructuredMatchesApimachinery(t *testing.T) {
	seeds := 12
	if testing.Short() {
		seeds = 3
	}
	planned, total := 0, 0
	for _, name := range builtinTypeNames() {
		typ := scheme.Scheme.AllKnownTypes()[name]
		total++
		if decoderOf(typ) != nil {
			planned++
		}
		for seed := 0; seed < seeds; seed++ {
			obj := reflect.New(typ).Interface()
			if !fill(filler(int64(seed)), obj) {
				break
			}
			u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
			if err != nil {
				continue
			}
			compareFrom(t, fmt.Sprintf("%s, seed %d", name, seed), u, typ)
			mutated := mutate(runtime.DeepCopyJSON(u), rand.New(rand.NewSource(int64(seed)))).(map[string]any)
			compareFrom(t, fmt.Sprintf("%s, seed %d, mutated", name, seed), mutated, typ)
		}
	}
	if planned < total*9/10 {
		t.Errorf("%d of %d built-in types are planned", planned, total)
	}
}

func FuzzFromUnstructured(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, int64(1))
	f.Add([]byte("\x02a Node to fill"), int64(2))
	f.Fuzz(func(t *testing.T, data []byte, seed int64) {
		if len(data) == 0 {
			return
		}
		typ := fuzzTypes[int(data[0])%len(fuzzTypes)]
		obj := reflect.New(typ).Interface()
		randfill.NewFromGoFuzz(data[1:]).NilChance(0.25).NumElements(0, 2).MaxDepth(6).Funcs(rawExtension).Fill(obj)
		u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
		if err != nil {
			return
		}
		compareFrom(t, typ.String(), u, typ)
		compareFrom(t, typ.String()+", mutated", mutate(u, rand.New(rand.NewSource(seed))).(map[string]any), typ)
	})
}
