package manifest

import (
	"errors"
	"fmt"
)

// ObjectErrors collects the errors of compiling a set of documents (policies, bindings, templates),
// each naming its file, document and object, so that one run reports every broken document.
type ObjectErrors []error

// Add records err about the object of d.
func (e *ObjectErrors) Add(d Document, err error) {
	*e = append(*e, d.Wrap(fmt.Errorf("%s %q: %w", d.Object.GetKind(), d.Object.GetName(), err)))
}

// Err is every error recorded, joined, or nil.
func (e ObjectErrors) Err() error { return errors.Join(e...) }

// Definitions remember the document that first defined each name of one kind of object: a second
// definition is refused, as the API server refuses to create an object that exists.
type Definitions map[string]Document

// Define records d as the definition of name, or says where name was defined first.
func (defs Definitions) Define(name string, d Document) error {
	if prev, dup := defs[name]; dup {
		return fmt.Errorf("defined again (first in %s)", prev.Source())
	}
	defs[name] = d
	return nil
}
