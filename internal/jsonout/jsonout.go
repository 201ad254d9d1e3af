// Package jsonout writes verdict's JSON reports: one value per report, followed by a newline, with
// <, > and & as written (messages quote policies and objects, and a report is not HTML).
package jsonout

import (
	"encoding/json"
	"io"
)

// Indented writes v indented by two spaces: the reports of check, audit and simulate.
func Indented(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// Compact writes v on one line: the answers of the rbac commands.
func Compact(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
