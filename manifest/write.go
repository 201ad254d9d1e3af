package manifest

import (
	"io"

	"sigs.k8s.io/yaml"
)

// WriteYAML writes each value as a YAML document, the documents separated by "---" lines, as
// kubectl prints a list of objects in YAML (without the List around them).
func WriteYAML[T any](w io.Writer, docs []T) error {
	for i, doc := range docs {
		data, err := yaml.Marshal(doc)
		if err != nil {
			return err
		}
		if i > 0 {
			if _, err := io.WriteString(w, "---\n"); err != nil {
				return err
			}
		}
		if _, err := w.Write(data); err != nil {
			return err
		}
	}
	return nil
}
