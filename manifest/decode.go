package manifest

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/yaml"

	"github.com/verdict-dev/verdict/internal/yamlsubset"
)

// errNoKind marks a document without kind: skipped when a folder walk found its file, an error
// when the user named the file.
var errNoKind = errors.New("missing kind: every manifest needs apiVersion and kind")

type chunk struct {
	text []byte
	line int // absolute line of the chunk's first line
}

// contentLine is the absolute line of the chunk's first line that is neither blank nor a comment,
// where a person sees the document begin.
func (c chunk) contentLine() int {
	line, text := c.line, c.text
	for len(text) > 0 {
		l := text
		if i := bytes.IndexByte(text, '\n'); i >= 0 {
			l, text = text[:i], text[i+1:]
		} else {
			text = nil
		}
		if t := bytes.TrimSpace(l); len(t) > 0 && t[0] != '#' {
			return line
		}
		line++
	}
	return c.line
}

// split cuts YAML at document separators: a line that starts with "---" followed by nothing but
// spaces or a comment, as apimachinery's YAMLReader does.
func split(data []byte) []chunk {
	var out []chunk
	start, startLine, line := 0, 1, 1
	for pos := 0; pos <= len(data); {
		end := bytes.IndexByte(data[pos:], '\n')
		next := len(data) + 1
		if end >= 0 {
			end += pos
			next = end + 1
		} else {
			end = len(data)
		}
		if isSeparator(data[pos:end]) {
			out = append(out, chunk{text: data[start:pos], line: startLine})
			start, startLine = min(next, len(data)), line+1
		}
		pos = next
		line++
	}
	out = append(out, chunk{text: data[start:], line: startLine})
	// A file that starts with a separator has no document before it.
	if len(out) > 1 && len(bytes.TrimSpace(out[0].text)) == 0 && isSeparator(firstLine(data)) {
		out = out[1:]
	}
	return out
}

func firstLine(data []byte) []byte {
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		return data[:i]
	}
	return data
}

func isSeparator(line []byte) bool {
	if !bytes.HasPrefix(line, []byte("---")) {
		return false
	}
	rest := strings.TrimSpace(string(line[3:]))
	return rest == "" || rest[0] == '#'
}

// yamlError is a YAML syntax error with its line and column relative to the document.
type yamlError struct {
	line, column int
	msg          string
}

func (e *yamlError) Error() string { return "invalid YAML: " + e.msg }

// yamlLine finds the position that go-yaml writes into its messages ("yaml: line 5: ..." or
// "yaml: line 5, column 3: ..."), the only place it gives one.
var yamlLine = regexp.MustCompile(`^(?:error converting YAML to JSON: )?yaml: line (\d+)(?:, column (\d+))?: (.*)$`)

func parseYAMLError(err error) error {
	m := yamlLine.FindStringSubmatch(err.Error())
	if m == nil {
		return fmt.Errorf("invalid YAML: %s", strings.TrimPrefix(err.Error(), "error converting YAML to JSON: "))
	}
	line, _ := strconv.Atoi(m[1])
	col, _ := strconv.Atoi(m[2])
	return &yamlError{line: line, column: col, msg: m[3]}
}

// decodeDocument decodes one YAML or JSON document. It returns nil for a document with no content.
func decodeDocument(text []byte) (*unstructured.Unstructured, error) {
	trimmed := bytes.TrimSpace(text)
	if len(trimmed) == 0 || onlyComments(trimmed) {
		return nil, nil
	}
	js := trimmed
	if trimmed[0] != '{' {
		// Most manifests are in the plain subset of YAML that yamlsubset reads directly; it hands
		// everything else (and every error) back to go-yaml.
		if m, ok := yamlsubset.Decode(text); ok {
			return object(m)
		}
		var err error
		js, err = yaml.YAMLToJSON(text)
		if err != nil {
			return nil, parseYAMLError(err)
		}
	}
	var v any
	if err := utiljson.Unmarshal(js, &v); err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	switch m := v.(type) {
	case nil:
		return nil, nil
	case map[string]any:
		return object(m)
	default:
		return nil, fmt.Errorf("a manifest must be an object with apiVersion and kind, not a %s", jsonType(v))
	}
}

func object(m map[string]any) (*unstructured.Unstructured, error) {
	obj := &unstructured.Unstructured{Object: m}
	if err := checkObject(obj); err != nil {
		return nil, err
	}
	return obj, nil
}

func onlyComments(b []byte) bool {
	for _, l := range bytes.Split(b, []byte("\n")) {
		l = bytes.TrimSpace(l)
		if len(l) > 0 && l[0] != '#' {
			return false
		}
	}
	return true
}

func jsonType(v any) string {
	switch v.(type) {
	case []any:
		return "list"
	case string:
		return "string"
	case bool:
		return "boolean"
	default:
		return "number"
	}
}

func checkObject(obj *unstructured.Unstructured) error {
	kind, ok := obj.Object["kind"].(string)
	if !ok || kind == "" {
		if _, present := obj.Object["kind"]; present {
			return fmt.Errorf("kind must be a non-empty string, not %s", describeValue(obj.Object["kind"]))
		}
		return errNoKind
	}
	av, ok := obj.Object["apiVersion"].(string)
	if !ok || av == "" {
		return fmt.Errorf("%s: missing apiVersion", kind)
	}
	if md, ok := obj.Object["metadata"]; ok && md != nil {
		if _, ok := md.(map[string]any); !ok {
			return fmt.Errorf("%s: metadata: expected object, got %s", kind, describeValue(md))
		}
	}
	return nil
}

// describeValue names a JSON value's type and, for a scalar, the value: `string "three"`.
func describeValue(v any) string {
	switch x := v.(type) {
	case string:
		return fmt.Sprintf("string %q", x)
	case bool:
		return fmt.Sprintf("boolean %t", x)
	case float64, int64, int:
		return fmt.Sprintf("number %v", x)
	}
	return describeKind(v)
}

// expandList returns the items of a List kind (kind "List" or any kind ending in "List" with an
// items array), or the object itself. Typed lists from the API (RoleList) may leave apiVersion and
// kind out of their items: those are taken from the list.
func expandList(obj *unstructured.Unstructured) ([]*unstructured.Unstructured, error) {
	items, isList := obj.Object["items"]
	if !strings.HasSuffix(obj.GetKind(), "List") || !isList {
		return []*unstructured.Unstructured{obj}, nil
	}
	arr, ok := items.([]any)
	if !ok && items != nil {
		return nil, fmt.Errorf("%s: items: expected array, got %s", obj.GetKind(), describeValue(items))
	}
	itemKind := strings.TrimSuffix(obj.GetKind(), "List")
	out := make([]*unstructured.Unstructured, 0, len(arr))
	for i, it := range arr {
		m, ok := it.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: items[%d]: expected object, got %s", obj.GetKind(), i, describeValue(it))
		}
		item := &unstructured.Unstructured{Object: m}
		if _, has := m["kind"]; !has && itemKind != "" {
			m["kind"], m["apiVersion"] = itemKind, obj.GetAPIVersion()
		}
		if err := checkObject(item); err != nil {
			return nil, fmt.Errorf("%s: items[%d]: %w", obj.GetKind(), i, err)
		}
		out = append(out, item)
	}
	return out, nil
}
