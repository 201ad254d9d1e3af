package manifest

import (
	"errors"

	yamlv3 "go.yaml.in/yaml/v3"
)

// fieldLine finds the line, within a document's text, of the field at path (keys and list indices),
// 0 when the path is not there. It parses the text again, which only an error costs.
func fieldLine(text []byte, path []any) int {
	var doc yamlv3.Node
	if err := yamlv3.Unmarshal(text, &doc); err != nil || len(doc.Content) == 0 {
		return 0
	}
	n := doc.Content[0]
	line := n.Line
	for _, p := range path {
		switch p := p.(type) {
		case string:
			if n.Kind != yamlv3.MappingNode {
				return line
			}
			found := false
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == p {
					line, n, found = n.Content[i].Line, n.Content[i+1], true
					break
				}
			}
			if !found {
				return line
			}
		case int:
			if n.Kind != yamlv3.SequenceNode || p >= len(n.Content) {
				return line
			}
			n = n.Content[p]
			line = n.Line
		}
	}
	return line
}

// fieldErrorLine is the absolute line of the field that err names, or 0.
func (d Document) fieldErrorLine(err error) int {
	var fe *FieldError
	if d.text == nil || !errors.As(err, &fe) || len(fe.Path) == 0 {
		return 0
	}
	if l := fieldLine(d.text, fe.Path); l > 0 {
		return d.textLine + l - 1
	}
	return 0
}
