package typedconv

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"sync"

	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/structured-merge-diff/v6/value"
)

// FromUnstructured converts u into obj, a non-nil pointer to a struct, as apimachinery's
// runtime.DefaultUnstructuredConverter.FromUnstructured does (unknown fields are ignored; a value
// of the wrong type is an error, in apimachinery's words).
func FromUnstructured(u map[string]any, obj any) error {
	v := reflect.ValueOf(obj)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return runtime.DefaultUnstructuredConverter.FromUnstructured(u, obj)
	}
	d := decoderOf(v.Type().Elem())
	if d == nil {
		return runtime.DefaultUnstructuredConverter.FromUnstructured(u, obj)
	}
	// apimachinery sets every field; starting from zero, the decoders set only those u has.
	v.Elem().SetZero()
	return d(reflect.ValueOf(u), v.Elem())
}

// decoder sets dv from sv, a value of the unstructured form (never an interface).
type decoder func(sv, dv reflect.Value) error

var decoders sync.Map // reflect.Type of a root struct → *rootDecoder

type rootDecoder struct{ decode decoder }

func decoderOf(t reflect.Type) decoder {
	if d, ok := decoders.Load(t); ok {
		return d.(*rootDecoder).decode
	}
	r := &rootDecoder{}
	b := &decoderBuilder{built: memo[decoder]{}}
	// A root with an unmarshaler of its own is apimachinery's to convert: it unmarshals into the
	// object as it is, which FromUnstructured's zeroing would change.
	if value.TypeReflectEntryOf(t).CanConvertFromUnstructured() {
		actual, _ := decoders.LoadOrStore(t, r)
		return actual.(*rootDecoder).decode
	}
	if d, err := b.decoderOf(t); err == nil {
		r.decode = func(sv, dv reflect.Value) error { return (*d)(sv, dv) }
	}
	actual, _ := decoders.LoadOrStore(t, r)
	return actual.(*rootDecoder).decode
}

// decoderBuilder builds the decoders of one root type.
type decoderBuilder struct{ built memo[decoder] }

func (b *decoderBuilder) decoderOf(t reflect.Type) (*decoder, error) { return b.built.get(t, b.build) }

// build follows apimachinery's fromUnstructured: scalars by kind, then a custom unmarshaler (smd's
// entry, which apimachinery calls), then maps, slices, pointers, structs and interfaces.
func (b *decoderBuilder) build(t reflect.Type) (decoder, error) {
	entry := value.TypeReflectEntryOf(t)
	switch t.Kind() {
	case reflect.Map, reflect.Slice, reflect.Pointer, reflect.Struct, reflect.Interface:
	case reflect.Array, reflect.Chan, reflect.Func, reflect.UnsafePointer:
		return nil, errUnplanned
	default:
		return scalarDecoder(entry), nil
	}
	if entry.CanConvertFromUnstructured() {
		return entry.FromUnstructured, nil
	}
	switch t.Kind() {
	case reflect.Map:
		return b.mapDecoder(t)
	case reflect.Slice:
		return b.sliceDecoder(t)
	case reflect.Pointer:
		return b.pointerDecoder(t)
	case reflect.Struct:
		return b.structDecoder(t)
	}
	return func(sv, dv reflect.Value) error { // an interface takes the value as it is
		dv.Set(sv)
		return nil
	}, nil
}

// child converts a value of the unstructured form, which may be a nil or an interface, into dv.
func child(d decoder, sv, dv reflect.Value) error {
	for sv.Kind() == reflect.Interface {
		sv = sv.Elem()
	}
	if !sv.IsValid() {
		dv.SetZero()
		return nil
	}
	return d(sv, dv)
}

// scalarDecoder sets a bool, number or string as apimachinery does: JSON's four groups (bools,
// integers, floats, strings) convert within themselves, integers to floats, and floats without a
// fraction to integers; a value that converts to none is for the type's own unmarshaler, if any.
func scalarDecoder(entry *value.TypeReflectCacheEntry) decoder {
	return func(sv, dv reflect.Value) error {
		st, dt := sv.Type(), dv.Type()
		if st == dt || st.AssignableTo(dt) {
			dv.Set(sv)
			return nil
		}
		if !st.ConvertibleTo(dt) {
			if entry.CanConvertFromUnstructured() {
				return entry.FromUnstructured(sv, dv)
			}
			return fmt.Errorf("unrecognized type: %v", dt.Kind())
		}
		return convertScalar(sv, dv)
	}
}

func convertScalar(sv, dv reflect.Value) error {
	st, dt := sv.Type(), dv.Type()
	sk, dk := group(st.Kind()), group(dt.Kind())
	switch {
	case sk == dk && sk != 0,
		sk == intGroup && dk == floatGroup,
		sk == floatGroup && sv.Float() == math.Trunc(sv.Float()):
		dv.Set(sv.Convert(dt))
		return nil
	}
	return fmt.Errorf("cannot convert %s to %s", st.String(), dt.String())
}

const (
	boolGroup = iota + 1
	intGroup
	floatGroup
	stringGroup
)

func group(k reflect.Kind) int {
	switch k {
	case reflect.Bool:
		return boolGroup
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return intGroup
	case reflect.Float32, reflect.Float64:
		return floatGroup
	case reflect.String:
		return stringGroup
	}
	return 0
}

func (b *decoderBuilder) mapDecoder(t reflect.Type) (decoder, error) {
	elem, err := b.decoderOf(t.Elem())
	if err != nil {
		return nil, err
	}
	return func(sv, dv reflect.Value) error {
		st := sv.Type()
		if st.Kind() != reflect.Map {
			return fmt.Errorf("cannot restore map from %v", st.Kind())
		}
		assignable := st.Key().AssignableTo(t.Key())
		if !assignable && !st.Key().ConvertibleTo(t.Key()) {
			return fmt.Errorf("cannot copy map with non-assignable keys: %v %v", st.Key(), t.Key())
		}
		if sv.IsNil() {
			dv.SetZero()
			return nil
		}
		dv.Set(reflect.MakeMapWithSize(t, sv.Len()))
		for it := sv.MapRange(); it.Next(); {
			x := reflect.New(t.Elem()).Elem()
			if err := child(*elem, it.Value(), x); err != nil {
				return err
			}
			key := it.Key()
			if !assignable {
				key = key.Convert(t.Key())
			}
			dv.SetMapIndex(key, x)
		}
		return nil
	}, nil
}

func (b *decoderBuilder) sliceDecoder(t reflect.Type) (decoder, error) {
	elem, err := b.decoderOf(t.Elem())
	if err != nil {
		return nil, err
	}
	bytes := t.Elem().Kind() == reflect.Uint8
	return func(sv, dv reflect.Value) error {
		st := sv.Type()
		if bytes && st.Kind() == reflect.String {
			return setBytes(sv, dv)
		}
		if st.Kind() != reflect.Slice {
			return fmt.Errorf("cannot restore slice from %v", st.Kind())
		}
		if sv.IsNil() {
			dv.SetZero()
			return nil
		}
		dv.Set(reflect.MakeSlice(t, sv.Len(), sv.Len()))
		for i := 0; i < sv.Len(); i++ {
			if err := child(*elem, sv.Index(i), dv.Index(i)); err != nil {
				return err
			}
		}
		return nil
	}, nil
}

// setBytes decodes a base64 string as encoding/json does (apimachinery goes through it).
func setBytes(sv, dv reflect.Value) error {
	s := sv.String()
	if s == "" {
		dv.Set(reflect.MakeSlice(dv.Type(), 0, 0))
		return nil
	}
	marshalled, err := json.Marshal(sv.Interface())
	if err != nil {
		return fmt.Errorf("error encoding %s to json: %v", sv.Type(), err)
	}
	var data []byte
	if err := json.Unmarshal(marshalled, &data); err != nil {
		return fmt.Errorf("error decoding from json: %v", err)
	}
	dv.SetBytes(data)
	return nil
}

func (b *decoderBuilder) pointerDecoder(t reflect.Type) (decoder, error) {
	elem, err := b.decoderOf(t.Elem())
	if err != nil {
		return nil, err
	}
	return func(sv, dv reflect.Value) error {
		if sv.Kind() == reflect.Pointer {
			if sv.IsNil() {
				dv.SetZero()
				return nil
			}
			dv.Set(reflect.New(t.Elem()))
			return child(*elem, sv.Elem(), dv.Elem())
		}
		dv.Set(reflect.New(t.Elem()))
		return (*elem)(sv, dv.Elem())
	}, nil
}

// fieldDecoder is one field of a struct: its key, or inline for a field whose keys are the
// struct's own.
type fieldDecoder struct {
	index  int
	name   reflect.Value // the key, as a string value
	key    string
	inline bool
	decode *decoder
}

func (b *decoderBuilder) structDecoder(t reflect.Type) (decoder, error) {
	s := &structDecoder{byKey: map[string][]int{}}
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		tag := tagOf(sf)
		if tag.embed || !sf.IsExported() {
			return nil, errUnplanned // apimachinery's to convert (or to fail on)
		}
		d, err := b.decoderOf(sf.Type)
		if err != nil {
			return nil, err
		}
		inline := tag.name == ""
		s.inline = s.inline || inline
		if !inline {
			s.byKey[tag.name] = append(s.byKey[tag.name], len(s.fields))
		}
		s.fields = append(s.fields, fieldDecoder{index: i, key: tag.name, name: reflect.ValueOf(tag.name), inline: inline, decode: d})
	}
	return s.decode, nil
}

// structDecoder decodes a struct from a map. Its destination is always zero (FromUnstructured
// zeroes the object; every value below it is new), so a struct without inlined fields is decoded
// from the keys the map has, not from every field the type has (a Container has some 25 fields, a
// manifest's container sets three or four); any error is the one the fields give in their order,
// as apimachinery reports it.
type structDecoder struct {
	fields []fieldDecoder
	byKey  map[string][]int // the fields of each key
	inline bool
}

func (s *structDecoder) decode(sv, dv reflect.Value) error {
	if sv.Kind() != reflect.Map {
		return fmt.Errorf("cannot restore struct from: %v", sv.Kind())
	}
	// The unstructured form's own maps are read as Go maps; others through reflection.
	m, plain := sv.Interface().(map[string]any)
	if !plain || s.inline {
		return s.eachField(sv, dv, m, plain)
	}
	for k, v := range m {
		if v == nil {
			continue
		}
		for _, i := range s.byKey[k] {
			f := &s.fields[i]
			if err := (*f.decode)(reflect.ValueOf(v), dv.Field(f.index)); err != nil {
				dv.SetZero()
				return s.eachField(sv, dv, m, plain)
			}
		}
	}
	return nil
}

// eachField decodes the struct field by field, as apimachinery's structFromUnstructured does.
func (s *structDecoder) eachField(sv, dv reflect.Value, m map[string]any, plain bool) error {
	for i := range s.fields {
		f := &s.fields[i]
		fv := dv.Field(f.index)
		if f.inline {
			if err := (*f.decode)(sv, fv); err != nil {
				return err
			}
			continue
		}
		var x reflect.Value
		if plain {
			if v, ok := m[f.key]; ok && v != nil {
				x = reflect.ValueOf(v)
			}
		} else {
			x = sv.MapIndex(f.name)
		}
		if err := child(*f.decode, x, fv); err != nil {
			return err
		}
	}
	return nil
}
