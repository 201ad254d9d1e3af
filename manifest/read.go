package manifest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/yaml"
)

// Stdin is the path that names standard input.
const Stdin = "-"

// MaxDocumentBytes bounds one document. The API server refuses requests over 3 MiB; manifests in CI
// are read whole, so the bound is generous but keeps a runaway input from exhausting memory.
const MaxDocumentBytes = 64 << 20

// Document is one object read from a manifest.
type Document struct {
	// File is the path as given (or "-" for standard input); Index is the document's position in the
	// file, counting from 0; Line is the line where the document starts, counting from 1.
	File   string
	Index  int
	Line   int
	Object *unstructured.Unstructured
}

// Source names where the document came from, for messages: "file: document N".
func (d Document) Source() string { return fmt.Sprintf("%s: document %d", d.File, d.Index) }

// Describe names the object, for messages: `Deployment "web"`.
func (d Document) Describe() string {
	return fmt.Sprintf("%s %q", d.Object.GetKind(), d.Object.GetName())
}

// Error is a problem with one document of one file.
type Error struct {
	File     string
	Document int // -1 when the problem is with the whole file
	Line     int // 0 when unknown
	Err      error
}

func (e *Error) Error() string {
	switch {
	case e.Document < 0:
		return fmt.Sprintf("%s: %v", e.File, e.Err)
	case e.Line > 0:
		return fmt.Sprintf("%s: document %d (line %d): %v", e.File, e.Document, e.Line, e.Err)
	default:
		return fmt.Sprintf("%s: document %d: %v", e.File, e.Document, e.Err)
	}
}

func (e *Error) Unwrap() error { return e.Err }

// IsManifestFile reports whether a file found in a folder is read as a manifest.
func IsManifestFile(path string) bool {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return false
}

// Files expands paths into the files to read: a file as given, a folder walked recursively for the
// files that match (sorted, hidden files and folders skipped), "-" as itself.
func Files(paths []string, match func(string) bool) ([]string, error) {
	var out []string
	for _, p := range paths {
		if p == Stdin {
			out = append(out, p)
			continue
		}
		info, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !info.IsDir() {
			out = append(out, p)
			continue
		}
		found, err := Walk(p, match)
		if err != nil {
			return nil, err
		}
		out = append(out, found...)
	}
	return out, nil
}

// Walk returns the files under dir for which match is true, sorted, skipping hidden files and
// folders (names starting with a dot).
func Walk(dir string, match func(string) bool) ([]string, error) {
	var found []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if path != dir && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.IsDir() && match(path) {
			found = append(found, path)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(found)
	return found, nil
}

// ReadFile reads one file (or standard input for "-") into documents.
func ReadFile(path string, stdin io.Reader) ([]Document, error) {
	var data []byte
	var err error
	if path == Stdin {
		if stdin == nil {
			return nil, &Error{File: path, Document: -1, Err: errors.New("standard input is not available")}
		}
		data, err = io.ReadAll(stdin)
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, &Error{File: path, Document: -1, Err: err}
	}
	return Decode(path, data)
}

// Decode splits data into YAML documents (JSON is YAML) and decodes each into objects. A List kind
// yields its items, each with the List's document index. Empty documents are skipped but counted.
func Decode(file string, data []byte) ([]Document, error) {
	var out []Document
	for i, chunk := range split(data) {
		if len(chunk.text) > MaxDocumentBytes {
			return nil, &Error{File: file, Document: i, Line: chunk.line, Err: fmt.Errorf("document is %d bytes, over the limit of %d", len(chunk.text), MaxDocumentBytes)}
		}
		obj, err := decodeDocument(chunk.text)
		if err != nil {
			return nil, &Error{File: file, Document: i, Line: chunk.line, Err: err}
		}
		if obj == nil {
			continue
		}
		items, err := expandList(obj)
		if err != nil {
			return nil, &Error{File: file, Document: i, Line: chunk.line, Err: err}
		}
		for _, it := range items {
			out = append(out, Document{File: file, Index: i, Line: chunk.line, Object: it})
		}
	}
	return out, nil
}

type chunk struct {
	text []byte
	line int
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
		l := data[pos:end]
		if isSeparator(l) {
			out = append(out, chunk{text: data[start:pos], line: startLine})
			start, startLine = next, line+1
			if start > len(data) {
				start = len(data)
			}
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

// decodeDocument decodes one YAML or JSON document. It returns nil for a document with no content.
func decodeDocument(text []byte) (*unstructured.Unstructured, error) {
	trimmed := bytes.TrimSpace(text)
	if len(trimmed) == 0 || onlyComments(trimmed) {
		return nil, nil
	}
	js := trimmed
	if trimmed[0] != '{' {
		var err error
		js, err = yaml.YAMLToJSON(text)
		if err != nil {
			return nil, fmt.Errorf("invalid YAML: %w", err)
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
		obj := &unstructured.Unstructured{Object: m}
		if err := checkObject(obj); err != nil {
			return nil, err
		}
		return obj, nil
	default:
		return nil, fmt.Errorf("a manifest must be an object with apiVersion and kind, not a %s", jsonType(v))
	}
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
		return errors.New("missing kind: every manifest needs apiVersion and kind")
	}
	av, ok := obj.Object["apiVersion"].(string)
	if !ok || av == "" {
		return fmt.Errorf("%s: missing apiVersion", kind)
	}
	if md, ok := obj.Object["metadata"]; ok && md != nil {
		if _, ok := md.(map[string]any); !ok {
			return fmt.Errorf("%s: metadata must be an object", kind)
		}
	}
	return nil
}

// expandList returns the items of a List kind (kind "List" or any kind ending in "List" with an
// items array), or the object itself.
func expandList(obj *unstructured.Unstructured) ([]*unstructured.Unstructured, error) {
	items, isList := obj.Object["items"]
	if !strings.HasSuffix(obj.GetKind(), "List") || !isList {
		return []*unstructured.Unstructured{obj}, nil
	}
	arr, ok := items.([]any)
	if !ok && items != nil {
		return nil, fmt.Errorf("%s: items must be a list", obj.GetKind())
	}
	out := make([]*unstructured.Unstructured, 0, len(arr))
	for i, it := range arr {
		m, ok := it.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: items[%d] must be an object", obj.GetKind(), i)
		}
		item := &unstructured.Unstructured{Object: m}
		if err := checkObject(item); err != nil {
			return nil, fmt.Errorf("%s: items[%d]: %w", obj.GetKind(), i, err)
		}
		out = append(out, item)
	}
	return out, nil
}

// ReadAll reads every manifest under paths (files, folders, or "-" for stdin) into documents, in
// order, decoding files on every core. Standard input is read once: naming "-" twice is an error.
func ReadAll(paths []string, stdin io.Reader) ([]Document, error) {
	files, err := Files(paths, IsManifestFile)
	if err != nil {
		return nil, err
	}
	type read struct {
		docs []Document
		err  error
	}
	reads := make([]read, len(files))
	seenStdin := false
	var pending []int
	for i, f := range files {
		if f != Stdin {
			pending = append(pending, i)
			continue
		}
		if seenStdin {
			reads[i].err = &Error{File: f, Document: -1, Err: errors.New("standard input can be read only once")}
			continue
		}
		seenStdin = true
		reads[i].docs, reads[i].err = ReadFile(f, stdin)
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < min(runtime.GOMAXPROCS(0), len(pending)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				n := int(next.Add(1)) - 1
				if n >= len(pending) {
					return
				}
				i := pending[n]
				reads[i].docs, reads[i].err = ReadFile(files[i], nil)
			}
		}()
	}
	wg.Wait()
	var docs []Document
	var errs []error
	for _, r := range reads {
		if r.err != nil {
			errs = append(errs, r.err)
			continue
		}
		docs = append(docs, r.docs...)
	}
	return docs, errors.Join(errs...)
}
