package manifest

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
)

// fieldTypeError explains why an object does not fit its Go type, by field path, as a person fixes
// it: `spec.replicas: expected integer, got string "three"`. apimachinery's unstructured converter
// only says "unrecognized type: int32"; encoding/json knows the field, so the object is decoded
// again through it, which costs nothing on the path where every object fits.
func fieldTypeError(object map[string]any, into any) error {
	data, err := json.Marshal(object)
	if err != nil {
		return nil
	}
	fresh := reflect.New(reflect.TypeOf(into).Elem()).Interface()
	err = json.Unmarshal(data, fresh)
	var ute *json.UnmarshalTypeError
	if !errors.As(err, &ute) || ute.Field == "" {
		return nil
	}
	want := jsonKind(ute.Type)
	got := ute.Value
	if v, ok := findMistyped(object, strings.Split(ute.Field, "."), want); ok {
		got = describeValue(v)
	}
	return fmt.Errorf("%s: expected %s, got %s", ute.Field, want, got)
}

// jsonKind names the JSON type that a Go type decodes from.
func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.String:
		return "string"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Map, reflect.Struct:
		return "object"
	}
	return t.String()
}

// findMistyped follows a field path (encoding/json's, which has no list indices) into an object and
// returns the first value at its end that is not of the wanted JSON type, looking into every item
// of the lists on the way.
func findMistyped(v any, path []string, want string) (any, bool) {
	if list, ok := v.([]any); ok && len(path) > 0 {
		for _, item := range list {
			if found, ok := findMistyped(item, path, want); ok {
				return found, true
			}
		}
		return nil, false
	}
	if len(path) == 0 {
		if describeKind(v) == want || (want == "number" && describeKind(v) == "integer") {
			return nil, false
		}
		return v, true
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, false
	}
	next, ok := m[path[0]]
	if !ok {
		return nil, false
	}
	return findMistyped(next, path[1:], want)
}

// describeKind is the JSON type of a decoded value, integers apart from other numbers.
func describeKind(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case bool:
		return "boolean"
	case int64, int:
		return "integer"
	case float64:
		if x == float64(int64(x)) {
			return "integer"
		}
	}
	return "number"
}
