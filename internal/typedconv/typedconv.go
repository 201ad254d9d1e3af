// Package typedconv converts typed API objects into their unstructured form (maps, slices, strings,
// int64, float64, bools) and back exactly as apimachinery's runtime.DefaultUnstructuredConverter
// does (ToUnstructured, and FromUnstructured without unknown-field errors), two to three times
// faster: what that converter works out for every value it visits (the type's custom converter,
// each field's JSON name and omitempty, through a shared cache) is planned here once per type, and
// each map is allocated at the size it fills.
//
// A type whose conversion this package does not plan (an interface field, a map with keys that are
// not strings, an unexported field, an inline field that is not a struct, an array) is converted by
// apimachinery's converter itself, so that the result, or the error, is always apimachinery's.
package typedconv

import (
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/structured-merge-diff/v6/value"
)

// ToUnstructured converts obj, a non-nil pointer to a struct, into its unstructured form.
func ToUnstructured(obj any) (map[string]any, error) {
	v := reflect.ValueOf(obj)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	}
	p := planOf(v.Type().Elem())
	if p.object == nil {
		return runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	}
	return p.object.object(v.Elem())
}

// plan is the conversion of a root type: object, or nil when apimachinery converts it.
type plan struct{ object *structPlan }

var plans sync.Map // reflect.Type of a root struct → *plan

func planOf(t reflect.Type) *plan {
	if p, ok := plans.Load(t); ok {
		return p.(*plan)
	}
	c := &compiler{built: memo[encoder]{}, structs: map[reflect.Type]*structPlan{}}
	p := &plan{}
	// A root with a custom converter of its own is apimachinery's to convert.
	if !value.TypeReflectEntryOf(t).CanConvertToUnstructured() {
		if s, err := c.structPlan(t); err == nil {
			p.object = s
		}
	}
	actual, _ := plans.LoadOrStore(t, p)
	return actual.(*plan)
}

// encoder converts one value. It returns nil for a value that converts to nothing (a nil pointer,
// a nil slice or map, a custom converter's null).
type encoder func(v reflect.Value) (any, error)

// errUnplanned marks a type this package leaves to apimachinery.
var errUnplanned = errors.New("not planned")

// compiler builds the encoders of one root type.
type compiler struct {
	built   memo[encoder]
	structs map[reflect.Type]*structPlan
}

func (c *compiler) encoderOf(t reflect.Type) (*encoder, error) { return c.built.get(t, c.build) }

// memo holds what is built per type, begun before it is built, so that a recursive type (a JSON
// schema's properties) refers to its own.
type memo[T any] map[reflect.Type]*T

func (m memo[T]) get(t reflect.Type, build func(reflect.Type) (T, error)) (*T, error) {
	if p, ok := m[t]; ok {
		return p, nil
	}
	p := new(T)
	m[t] = p
	v, err := build(t)
	if err != nil {
		return nil, err
	}
	*p = v
	return p, nil
}

// build follows apimachinery's toUnstructured: a custom converter first (smd's, which apimachinery
// calls), then the kind.
func (c *compiler) build(t reflect.Type) (encoder, error) {
	if entry := value.TypeReflectEntryOf(t); entry.CanConvertToUnstructured() {
		return entry.ToUnstructured, nil
	}
	if enc := scalarEncoder(t.Kind()); enc != nil {
		return enc, nil
	}
	switch t.Kind() {
	case reflect.Map:
		return c.mapEncoder(t)
	case reflect.Slice:
		return c.sliceEncoder(t)
	case reflect.Pointer:
		return c.nilable(t.Elem(), func(elem encoder, v reflect.Value) (any, error) { return elem(v.Elem()) })
	case reflect.Struct:
		s, err := c.structPlan(t)
		if err != nil {
			return nil, err
		}
		return func(v reflect.Value) (any, error) { return s.object(v) }, nil
	}
	return nil, errUnplanned
}

func scalarEncoder(k reflect.Kind) encoder {
	switch k {
	case reflect.String:
		return func(v reflect.Value) (any, error) { return v.String(), nil }
	case reflect.Bool:
		return func(v reflect.Value) (any, error) { return v.Bool(), nil }
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return func(v reflect.Value) (any, error) { return v.Int(), nil }
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return func(v reflect.Value) (any, error) { return uintValue(v.Uint()) }
	case reflect.Float32, reflect.Float64:
		return func(v reflect.Value) (any, error) { return v.Float(), nil }
	}
	return nil
}

// uintValue is apimachinery's: an unsigned value is an int64, or an error past its range.
func uintValue(u uint64) (any, error) {
	if u > math.MaxInt64 {
		return nil, fmt.Errorf("unsigned value %d does not fit into int64 (overflow)", u)
	}
	return int64(u), nil
}

func (c *compiler) mapEncoder(t reflect.Type) (encoder, error) {
	if t.Key().Kind() != reflect.String {
		return nil, errUnplanned // apimachinery refuses it, in words of its own
	}
	return c.nilable(t.Elem(), func(elem encoder, v reflect.Value) (any, error) {
		out := make(map[string]any, v.Len())
		for it := v.MapRange(); it.Next(); {
			x, err := elem(it.Value())
			if err != nil {
				return nil, err
			}
			out[it.Key().String()] = x
		}
		return out, nil
	})
}

func (c *compiler) sliceEncoder(t reflect.Type) (encoder, error) {
	if t.Elem().Kind() == reflect.Uint8 {
		// Bytes are a base64 string, as encoding/json writes them (apimachinery goes through it).
		return func(v reflect.Value) (any, error) {
			if v.IsNil() {
				return nil, nil
			}
			return base64.StdEncoding.EncodeToString(v.Bytes()), nil
		}, nil
	}
	return c.nilable(t.Elem(), func(elem encoder, v reflect.Value) (any, error) {
		out := make([]any, v.Len())
		for i := range out {
			x, err := elem(v.Index(i))
			if err != nil {
				return nil, err
			}
			out[i] = x
		}
		return out, nil
	})
}

// nilable builds the encoder of a pointer, map or slice: nothing for nil, convert otherwise, with
// the encoder of its elements (set once a recursive type's is built).
func (c *compiler) nilable(elemType reflect.Type, convert func(elem encoder, v reflect.Value) (any, error)) (encoder, error) {
	elem, err := c.encoderOf(elemType)
	if err != nil {
		return nil, err
	}
	return func(v reflect.Value) (any, error) {
		if v.IsNil() {
			return nil, nil
		}
		return convert(*elem, v)
	}, nil
}

// structPlan is a struct's fields in order, as apimachinery's structToUnstructured visits them.
type structPlan struct{ fields []field }

type field struct {
	index     int
	name      string
	omitEmpty bool
	omitZero  func(reflect.Value) bool
	// scalar converts a field of a scalar kind: apimachinery takes its value by kind, before any
	// custom converter of its type.
	scalar encoder
	enc    *encoder
	// inline is the plan of an inlined struct (or pointer to one), whose fields join the map.
	inline    *structPlan
	inlinePtr bool
}

func (c *compiler) structPlan(t reflect.Type) (*structPlan, error) {
	if s, ok := c.structs[t]; ok {
		return s, nil
	}
	s := &structPlan{}
	c.structs[t] = s
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		f, skip, err := c.field(sf, i)
		if err != nil {
			return nil, err
		}
		if !skip {
			s.fields = append(s.fields, f)
		}
	}
	return s, nil
}

// tag is a field's key and options as apimachinery reads its JSON tag (fieldInfoFromField): the
// key is "" for an inlined field (embedded, with no name of its own).
type tag struct {
	name                       string
	omitEmpty, omitZero, embed bool
}

func tagOf(sf reflect.StructField) tag {
	var t tag
	text, ok := sf.Tag.Lookup("json")
	if !ok || text == "" {
		if !sf.Anonymous {
			t.name = sf.Name
		}
		return t
	}
	items := strings.Split(text, ",")
	t.name = items[0]
	if t.name == "" && !sf.Anonymous {
		t.name = sf.Name
	}
	for _, item := range items[1:] {
		switch item {
		case "omitempty":
			t.omitEmpty = true
		case "omitzero":
			t.omitZero = true
		case "embed":
			t.embed = true
		}
	}
	return t
}

// field plans one field.
func (c *compiler) field(sf reflect.StructField, i int) (f field, skip bool, err error) {
	t := tagOf(sf)
	f.index, f.name, f.omitEmpty = i, t.name, t.omitEmpty
	if t.omitZero {
		f.omitZero = value.OmitZeroFunc(sf.Type)
	}
	switch {
	case t.embed:
		return f, false, errUnplanned // inlined by newer Go releases' rules
	case f.name == "-":
		return f, true, nil
	case !sf.IsExported():
		return f, false, errUnplanned
	case f.name == "":
		return c.inlineField(f, sf.Type)
	}
	if f.scalar = scalarEncoder(sf.Type.Kind()); f.scalar == nil {
		if f.enc, err = c.encoderOf(sf.Type); err != nil {
			return f, false, err
		}
	}
	return f, false, nil
}

func (c *compiler) inlineField(f field, t reflect.Type) (field, bool, error) {
	if value.TypeReflectEntryOf(t).CanConvertToUnstructured() {
		return f, false, errUnplanned
	}
	if t.Kind() == reflect.Pointer {
		if value.TypeReflectEntryOf(t.Elem()).CanConvertToUnstructured() {
			return f, false, errUnplanned
		}
		t, f.inlinePtr = t.Elem(), true
	}
	if t.Kind() != reflect.Struct {
		return f, false, errUnplanned
	}
	s, err := c.structPlan(t)
	f.inline = s
	return f, false, err
}

// inlined is the struct an inline field holds, if any (a nil pointer holds none).
func (f *field) inlined(fv reflect.Value) (reflect.Value, bool) {
	if !f.inlinePtr {
		return fv, true
	}
	if fv.IsNil() {
		return fv, false
	}
	return fv.Elem(), true
}

// pair is a key of a struct's map and its value, gathered before the map is made at its size.
type pair struct {
	key   string
	value any
}

// object converts the struct's value into a map: its fields are gathered first (on the stack, for
// a struct of up to 32 keys), so that the map is made once, at its size.
func (s *structPlan) object(v reflect.Value) (map[string]any, error) {
	var buf [32]pair
	pairs, err := s.collect(v, buf[:0])
	if err != nil {
		return nil, err
	}
	out := make(map[string]any, len(pairs))
	for _, p := range pairs {
		out[p.key] = p.value // a later field of the same name wins, as in apimachinery's map
	}
	return out, nil
}

// collect appends the struct's keys and values to pairs, in field order, an inlined struct's where
// it stands.
func (s *structPlan) collect(v reflect.Value, pairs []pair) ([]pair, error) {
	for i := range s.fields {
		f := &s.fields[i]
		fv := v.Field(f.index)
		if f.omitEmpty && isEmpty(fv) {
			continue
		}
		if f.omitZero != nil && f.omitZero(fv) {
			continue
		}
		var x any
		var err error
		switch {
		case f.inline != nil:
			if sv, ok := f.inlined(fv); ok {
				pairs, err = f.inline.collect(sv, pairs)
			}
			if err != nil {
				return nil, err
			}
			continue
		case f.scalar != nil:
			x, err = f.scalar(fv)
		default:
			x, err = (*f.enc)(fv)
		}
		if err != nil {
			return nil, err
		}
		pairs = append(pairs, pair{f.name, x})
	}
	return pairs, nil
}

// isEmpty is apimachinery's test of an omitempty field.
func isEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.String:
		return v.Len() == 0
	case reflect.Bool:
		return !v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int() == 0
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return v.Uint() == 0
	case reflect.Float32, reflect.Float64:
		return v.Float() == 0
	case reflect.Map, reflect.Slice:
		return v.IsNil() || v.Len() == 0
	case reflect.Pointer, reflect.Interface:
		return v.IsNil()
	}
	return false
}
