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
	fe := &FieldError{Field: ute.Field, Message: fmt.Sprintf("expected %s, got %s", want, ute.Value)}
	if v, path, ok := findMistyped(object, strings.Split(ute.Field, "."), want); ok {
		fe.Message = fmt.Sprintf("expected %s, got %s", want, describeValue(v))
		fe.Path = path
		fe.Field = fieldPath(path)
	}
	return fe
}

// FieldError is a value of the wrong type at a field path. Path holds the keys and list indices
// that lead to it, so that the field's line can be found in the source.
type FieldError struct {
	Field   string // spec.template.spec.containers[0].ports[1].containerPort
	Path    []any  // the keys (string) and indices (int) of Field
	Message string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

// fieldPath writes a path as the API server writes field paths.
func fieldPath(path []any) string {
	var b strings.Builder
	for _, p := range path {
		switch p := p.(type) {
		case int:
			fmt.Fprintf(&b, "[%d]", p)
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(p)
		}
	}
	return b.String()
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
// of the lists on the way, and the path that leads to it, indices included.
func findMistyped(v any, path []string, want string) (any, []any, bool) {
	if list, ok := v.([]any); ok && len(path) > 0 {
		for i, item := range list {
			if found, at, ok := findMistyped(item, path, want); ok {
				return found, append([]any{i}, at...), true
			}
		}
		return nil, nil, false
	}
	if len(path) == 0 {
		if describeKind(v) == want || (want == "number" && describeKind(v) == "integer") {
			return nil, nil, false
		}
		return v, nil, true
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, nil, false
	}
	next, ok := m[path[0]]
	if !ok {
		return nil, nil, false
	}
	found, at, ok := findMistyped(next, path[1:], want)
	if !ok {
		return nil, nil, false
	}
	return found, append([]any{path[0]}, at...), true
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
