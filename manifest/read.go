package manifest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/verdict-dev/verdict/internal/parallel"
)

// Document is one object read from a manifest.
type Document struct {
	// File is the path as given ("-" for standard input, or the path in kustomize's
	// config.kubernetes.io/origin annotation of an object read from it).
	File string
	// Index is the document's number in the file, counting from 1, empty documents included, as a
	// person counts the parts between "---" lines.
	Index int
	// Line is the absolute line of the file where the document starts, counting from 1; 0 when the
	// source is an origin annotation, which has no line.
	Line int
	// Item is "items[N]" for an object of a List document, "" otherwise; List is that List.
	Item   string
	List   *unstructured.Unstructured
	Object *unstructured.Unstructured

	// text is the document's source and textLine the absolute line where it starts, so that an error
	// about a field can point at the field's line.
	text     []byte
	textLine int
}

// Source names where the document came from, as an editor opens it: "file:line".
func (d Document) Source() string {
	if d.Line <= 0 {
		return d.File
	}
	return fmt.Sprintf("%s:%d", d.File, d.Line)
}

// Describe names the object, for messages: `Deployment "web"`.
func (d Document) Describe() string {
	return fmt.Sprintf("%s %q", d.Object.GetKind(), d.Object.GetName())
}

// Errorf makes an error about the document.
func (d Document) Errorf(format string, args ...any) *Error {
	return d.Wrap(fmt.Errorf(format, args...))
}

// Wrap makes err an error about the document.
func (d Document) Wrap(err error) *Error {
	e := &Error{File: d.File, Document: d.Index, Item: d.Item, Line: d.Line, Err: err}
	if l := d.fieldErrorLine(err); l > 0 {
		e.Line = l
	}
	return e
}

// Error is a problem with one document of one file, or with the whole file.
type Error struct {
	File     string
	Document int    // counting from 1; 0 when the problem is with the whole file
	Item     string // "items[N]" for an object of a List document, or ""
	Line     int    // absolute line, 0 when unknown
	Column   int    // 0 when unknown
	Err      error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
		if e.Column > 0 {
			fmt.Fprintf(&b, ":%d", e.Column)
		}
	}
	if e.Document > 0 {
		fmt.Fprintf(&b, ": document %d", e.Document)
		if e.Item != "" {
			fmt.Fprintf(&b, ", %s", e.Item)
		}
	}
	fmt.Fprintf(&b, ": %v", e.Err)
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Set is what a read found: the objects, the documents that could not be read, and notes on what
// was skipped. A broken document never hides the others.
type Set struct {
	Documents []Document
	Errors    []*Error
	Notes     []string
}

// Err joins the errors of the set, nil when there are none.
func (s *Set) Err() error {
	errs := make([]error, len(s.Errors))
	for i, e := range s.Errors {
		errs[i] = e
	}
	return errors.Join(errs...)
}

// add appends the documents, errors and notes of other.
func (s *Set) add(other *Set) {
	s.Documents = append(s.Documents, other.Documents...)
	s.Errors = append(s.Errors, other.Errors...)
	s.Notes = append(s.Notes, other.Notes...)
}

// Read reads every manifest under paths (files, folders, or "-" for stdin), in order, decoding files
// on every core. Standard input is read once: naming "-" twice is an error.
func Read(paths []string, stdin io.Reader) *Set {
	files, notes, err := Files(paths, IsManifestFile)
	out := &Set{Notes: notes}
	if err != nil {
		out.Errors = append(out.Errors, pathErrors(err)...)
	}
	reads := make([]*Set, len(files))
	seenStdin := false
	var pending []int
	for i, f := range files {
		if f.Path != Stdin {
			pending = append(pending, i)
			continue
		}
		if seenStdin {
			reads[i] = &Set{Errors: []*Error{{File: f.Path, Err: errors.New("standard input can be read only once")}}}
			continue
		}
		seenStdin = true
		reads[i] = ReadFile(f, stdin)
	}
	parallel.Each(len(pending), 2, func(n int) { reads[pending[n]] = ReadFile(files[pending[n]], nil) })
	for _, r := range reads {
		out.add(r)
	}
	return out
}

// pathErrors splits the error of Files into its *Error values.
func pathErrors(err error) []*Error {
	var out []*Error
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range joined.Unwrap() {
			out = append(out, pathErrors(e)...)
		}
		return out
	}
	var e *Error
	if errors.As(err, &e) {
		return []*Error{e}
	}
	return []*Error{{Err: err}}
}

// ReadFile reads one file (or standard input for "-") into documents.
func ReadFile(f File, stdin io.Reader) *Set {
	data, err := ReadBytes(f.Path, stdin)
	if err != nil {
		return &Set{Errors: []*Error{fileError(f.Path, err)}}
	}
	s := Decode(f.Path, data)
	if !f.Explicit {
		s.skipNotObjects()
	}
	if f.Path == Stdin {
		for i := range s.Documents {
			if origin := originPath(s.Documents[i].Object); origin != "" {
				s.Documents[i].File, s.Documents[i].Line = origin, 0
			}
		}
	}
	return s
}

// skipNotObjects turns the "missing kind" errors of a file found by a folder walk into notes: such a
// file holds some tool's configuration, not a Kubernetes object.
func (s *Set) skipNotObjects() {
	kept := s.Errors[:0]
	for _, e := range s.Errors {
		if errors.Is(e.Err, errNoKind) {
			s.Notes = append(s.Notes, fmt.Sprintf("%s: skipped, not a Kubernetes object (no kind)", e.position()))
			continue
		}
		kept = append(kept, e)
	}
	s.Errors = kept
}

// position is the error's place without its message.
func (e *Error) position() string {
	msg := e.Error()
	return strings.TrimSuffix(msg, ": "+e.Err.Error())
}

// Decode splits data into YAML documents (JSON is YAML) and decodes each into objects. A List kind
// yields its items, each with the List's document number. Empty documents are skipped but counted. A
// document that cannot be decoded is an error of the set; the other documents are still read.
func Decode(file string, data []byte) *Set {
	chunks := split(data)
	parts := make([]*Set, len(chunks))
	// Large files (a kubectl get -o yaml dump, a kustomize build) are decoded on every core.
	parallel.Each(len(chunks), 64, func(i int) { parts[i] = decodeChunk(file, i+1, chunks[i]) })
	out := &Set{}
	for _, p := range parts {
		out.add(p)
	}
	return out
}

// decodeChunk decodes document n of a file.
func decodeChunk(file string, n int, c chunk) *Set {
	out := &Set{}
	start := c.contentLine()
	fail := func(err error) *Set {
		e := &Error{File: file, Document: n, Line: start, Err: err}
		var ye *yamlError
		if errors.As(err, &ye) {
			// go-yaml places an error at the end of the stream one line past the document.
			last := c.line + bytes.Count(bytes.TrimRight(c.text, " \t\r\n"), []byte("\n"))
			e.Line, e.Column, e.Err = min(c.line+ye.line-1, last), ye.column, ye
		}
		out.Errors = append(out.Errors, e)
		return out
	}
	obj, err := decodeDocument(c.text)
	if err != nil {
		return fail(err)
	}
	if obj == nil {
		return out
	}
	if isNotObjectKind(obj) {
		out.Notes = append(out.Notes, fmt.Sprintf("%s:%d: document %d: skipped, a %s file, not a Kubernetes object", file, start, n, obj.GetKind()))
		return out
	}
	items, err := expandList(obj)
	if err != nil {
		return fail(err)
	}
	listed := len(items) != 1 || items[0] != obj
	for j, it := range items {
		d := Document{File: file, Index: n, Line: start, Object: it}
		if listed {
			d.Item, d.List = fmt.Sprintf("items[%d]", j), obj
		} else {
			d.text, d.textLine = c.text, c.line
		}
		out.Documents = append(out.Documents, d)
	}
	return out
}

// isNotObjectKind reports the kinds of kustomize's own files, which live among manifests.
func isNotObjectKind(obj *unstructured.Unstructured) bool {
	switch obj.GetAPIVersion() {
	case "kustomize.config.k8s.io/v1beta1", "kustomize.config.k8s.io/v1alpha1":
		return obj.GetKind() == "Kustomization" || obj.GetKind() == "Component"
	}
	return false
}

// originPath reads the path of kustomize's config.kubernetes.io/origin annotation
// (buildMetadata: [originAnnotations]), "" when there is none.
func originPath(obj *unstructured.Unstructured) string {
	text, ok := obj.GetAnnotations()["config.kubernetes.io/origin"]
	if !ok {
		return ""
	}
	var origin struct {
		Path string `json:"path"`
	}
	if err := yaml.Unmarshal([]byte(text), &origin); err != nil {
		return ""
	}
	return origin.Path
}

// ReadPath reads one file that the user named, failing on any document that cannot be read.
func ReadPath(path string) ([]Document, error) {
	s := ReadFile(File{Path: path, Explicit: true}, nil)
	return s.Documents, s.Err()
}

// Result returns the documents and the joined errors, for callers that fail on any error.
func (s *Set) Result() ([]Document, error) { return s.Documents, s.Err() }

// Unsplit returns the documents with each List whole, as one object in place of its items: the view
// of gator and conftest, which judge a document as it is written. A List without items stays out.
func Unsplit(docs []Document) []Document {
	out := make([]Document, 0, len(docs))
	for _, d := range docs {
		switch {
		case d.List == nil:
			out = append(out, d)
		case d.Item == "items[0]":
			whole := d
			whole.Object, whole.Item, whole.List = d.List, "", nil
			out = append(out, whole)
		}
	}
	return out
}
