package simulate

import (
	"fmt"
	"io"
	"strings"

	"github.com/verdict-dev/verdict/internal/jsonout"
	"github.com/verdict-dev/verdict/internal/junit"
)

// Formats are the report formats of Write.
var Formats = []string{"table", "json", "junit", "sarif", "github"}

// Write writes the report in a format of Formats.
func (r *Report) Write(w io.Writer, format string) error {
	switch format {
	case "table", "":
		return r.writeTable(w)
	case "json":
		return jsonout.Indented(w, struct {
			Objects []Result `json:"objects"`
		}{r.nonNil()})
	case "junit":
		return r.writeJUnit(w)
	case "sarif":
		return jsonout.Indented(w, r.sarif())
	case "github":
		return r.writeGitHub(w)
	}
	return fmt.Errorf("unknown output format %q: use one of %s", format, strings.Join(Formats, ", "))
}

func (r *Report) nonNil() []Result {
	if r.Results == nil {
		return []Result{}
	}
	return r.Results
}

// object names a result's object as kubectl's messages do: Kind namespace/name.
func (r *Result) object() string {
	if r.Namespace != "" {
		return r.Kind + " " + r.Namespace + "/" + r.Name
	}
	return r.Kind + " " + r.Name
}

func (r *Result) source() string {
	if r.Line > 0 {
		return fmt.Sprintf("%s:%d", r.File, r.Line)
	}
	return r.File
}

// Summary counts the outcomes: "3 objects: 1 created, 1 configured, 1 refused".
func (r *Report) Summary() string {
	counts := map[Outcome]int{}
	for i := range r.Results {
		counts[r.Results[i].Outcome]++
	}
	s := fmt.Sprintf("%d objects: %d created, %d configured", len(r.Results), counts[Created], counts[Configured])
	for _, o := range []Outcome{Unchanged, Authorized, Deleted} {
		if n := counts[o]; n > 0 {
			s += fmt.Sprintf(", %d %s", n, o)
		}
	}
	return s + fmt.Sprintf(", %d refused", counts[Refused])
}

// writeTable prints one line per object, its source, name and what the API server did, then, indented,
// the line kubectl would print for a refusal and the API server's warnings.
func (r *Report) writeTable(w io.Writer) error {
	var b strings.Builder
	for i := range r.Results {
		res := &r.Results[i]
		fmt.Fprintf(&b, "%s %s: ", res.source(), res.object())
		if res.Refused() {
			fmt.Fprintf(&b, "refused at %s\n", res.Stage)
			for _, line := range strings.Split(res.Message, "\n") {
				fmt.Fprintf(&b, "    %s\n", line)
			}
		} else {
			fmt.Fprintf(&b, "%s (dry run)\n", res.Outcome)
		}
		for _, warning := range res.Warnings {
			fmt.Fprintf(&b, "    Warning: %s\n", warning)
		}
	}
	b.WriteString(r.Summary() + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// writeJUnit writes one test case per object, failed when the API server refuses it.
func (r *Report) writeJUnit(w io.Writer) error {
	suite := junit.Suite{Name: "verdict simulate"}
	for i := range r.Results {
		res := &r.Results[i]
		c := junit.Case{Name: res.object(), ClassName: res.source(), SystemOut: strings.Join(prefixed("Warning: ", res.Warnings), "\n")}
		if res.Refused() {
			c.Failure = &junit.Message{Message: firstLine(res.Message), Type: res.Stage, Text: res.Message}
			suite.Failures++
		}
		suite.Cases = append(suite.Cases, c)
	}
	suite.Tests = len(suite.Cases)
	return junit.Write(w, junit.Suites{Name: "verdict", Tests: suite.Tests, Failures: suite.Failures, Suites: []junit.Suite{suite}})
}

func prefixed(prefix string, lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = prefix + l
	}
	return out
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
