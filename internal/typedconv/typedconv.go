// Package typedconv converts typed API objects into their unstructured form (maps, slices, strings,
// int64, float64, bools) exactly as apimachinery's runtime.DefaultUnstructuredConverter.ToUnstructured
// does, and several times faster: what that converter works out for every value it visits (the
// type's custom converter, each field's JSON name and omitempty, through a shared cache) is planned
// here once per type, and each map is allocated at the size it fills.
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
	out := make(map[string]any, p.object.count(v.Elem()))
	if err := p.object.into(v.Elem(), out); err != nil {
		return nil, err
	}
	return out, nil
}

// plan is the conversion of a root type: object, or nil when apimachinery converts it.
type plan struct{ object *structPlan }

var plans sync.Map // reflect.Type of a root struct → *plan

func planOf(t reflect.Type) *plan {
	if p, ok := plans.Load(t); ok {
		return p.(*plan)
	}
	c := &compiler{built: map[reflect.Type]*encoder{}, structs: map[reflect.Type]*structPlan{}}
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

// compiler builds the encoders of one root type; built holds those begun, so that a recursive type
// (a JSON schema's properties) refers to its own encoder.
type compiler struct {
	built   map[reflect.Type]*encoder
	structs map[reflect.Type]*structPlan
}

func (c *compiler) encoderOf(t reflect.Type) (*encoder, error) {
	if e, ok := c.built[t]; ok {
		return e, nil
	}
	e := new(encoder)
	c.built[t] = e
	fn, err := c.build(t)
	if err != nil {
		return nil, err
	}
	*e = fn
	return e, nil
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
		return func(v reflect.Value) (any, error) {
			out := make(map[string]any, s.count(v))
			return out, s.into(v, out)
		}, nil
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

// field plans one field by apimachinery's reading of its JSON tag (fieldInfoFromField).
func (c *compiler) field(sf reflect.StructField, i int) (f field, skip bool, err error) {
	f.index = i
	tag, hasTag := sf.Tag.Lookup("json")
	if !hasTag || tag == "" {
		if !sf.Anonymous {
			f.name = sf.Name
		}
	} else {
		items := strings.Split(tag, ",")
		f.name = items[0]
		if f.name == "" && !sf.Anonymous {
			f.name = sf.Name
		}
		for _, item := range items[1:] {
			switch item {
			case "omitempty":
				f.omitEmpty = true
			case "omitzero":
				f.omitZero = value.OmitZeroFunc(sf.Type)
			case "embed":
				return f, false, errUnplanned // inlined by newer Go releases' rules
			}
		}
	}
	if f.name == "-" {
		return f, true, nil
	}
	if !sf.IsExported() {
		return f, false, errUnplanned
	}
	if f.name == "" {
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

// count is how many keys the struct's value sets at most (inlined ones included), to size its map.
func (s *structPlan) count(v reflect.Value) int {
	n := 0
	for i := range s.fields {
		f := &s.fields[i]
		fv := v.Field(f.index)
		switch {
		case f.inline != nil:
			if sv, ok := f.inlined(fv); ok {
				n += f.inline.count(sv)
			}
		case f.omitEmpty && isEmpty(fv), f.omitZero != nil && f.omitZero(fv):
		default:
			n++
		}
	}
	return n
}

// into sets the struct's fields into out.
func (s *structPlan) into(v reflect.Value, out map[string]any) error {
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
				err = f.inline.into(sv, out)
			}
			if err != nil {
				return err
			}
			continue
		case f.scalar != nil:
			x, err = f.scalar(fv)
		default:
			x, err = (*f.enc)(fv)
		}
		if err != nil {
			return err
		}
		out[f.name] = x
	}
	return nil
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
