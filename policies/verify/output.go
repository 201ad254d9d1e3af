package verify

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/verdict-dev/verdict/internal/junit"
	"github.com/verdict-dev/verdict/policies"
)

// Formats are the output formats of Write.
var Formats = []string{"text", "json", "junit"}

// Write prints the report: text (one line per case and a closing count; verbose adds what each
// engine said about passing cases), json or junit.
func (r *Report) Write(w io.Writer, format string, verbose bool) error {
	switch format {
	case "", "text":
		return r.writeText(w, verbose)
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	case "junit":
		return r.writeJUnit(w)
	}
	return fmt.Errorf("unknown output format %q: must be one of %s", format, strings.Join(Formats, ", "))
}

var statusWord = map[Status]string{Pass: "ok", Fail: "FAIL", Skip: "skip", Error: "ERROR"}

func (r *Report) writeText(w io.Writer, verbose bool) error {
	var b strings.Builder
	for _, res := range r.Results {
		fmt.Fprintf(&b, "%-5s %s", statusWord[res.Status], res.Suite)
		if n := res.Name(); n != "" {
			fmt.Fprintf(&b, ": %s", n)
		}
		if res.Message != "" {
			fmt.Fprintf(&b, ": %s", barredLine(res.Message))
		}
		b.WriteByte('\n')
		if verbose && res.Status == Pass {
			for _, e := range res.Engines {
				word := "violation"
				if e.Engine == policiesEngine {
					word = "finding"
				}
				fmt.Fprintf(&b, "      %s: %d %s%s%s\n", e.Engine, len(e.Violations), word, plural(len(e.Violations)), quoted(e.Violations))
			}
		}
	}
	s := r.Summary
	fmt.Fprintf(&b, "%d passed, %d failed", s.Passed, s.Failed)
	if s.Skipped > 0 {
		fmt.Fprintf(&b, ", %d skipped", s.Skipped)
	}
	if s.Errors > 0 {
		fmt.Fprintf(&b, ", %d errors", s.Errors)
	}
	b.WriteByte('\n')
	_, err := io.WriteString(w, b.String())
	return err
}

// barredLine keeps a result on its line: the lines of a multi-line message (several compile
// errors) are joined with " | ", and runs of spaces become one, as policies.OneLine does.
func barredLine(s string) string { return policies.OneLine(strings.ReplaceAll(s, "\n", " | ")) }

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func quoted(msgs []string) string {
	if len(msgs) == 0 {
		return ""
	}
	q := make([]string, len(msgs))
	for i, m := range msgs {
		q[i] = fmt.Sprintf("%q", m)
	}
	return ": " + strings.Join(q, ", ")
}

// writeJUnit writes a test suite per suite of the policy tests, a test case per test.
func (r *Report) writeJUnit(w io.Writer) error {
	out := junit.Suites{Failures: r.Summary.Failed, Errors: new(r.Summary.Errors), Skipped: new(r.Summary.Skipped)}
	index := map[string]int{}
	for _, res := range r.Results {
		i, ok := index[res.Suite]
		if !ok {
			i = len(out.Suites)
			index[res.Suite] = i
			out.Suites = append(out.Suites, junit.Suite{Name: res.Suite, Errors: new(0), Skipped: new(0)})
		}
		s := &out.Suites[i]
		name := res.Name()
		if name == "" {
			name = res.Suite
		}
		c := junit.Case{Name: name, ClassName: res.Suite}
		switch res.Status {
		case Fail:
			c.Failure = &junit.Message{Message: barredLine(res.Message), Text: res.Message}
			s.Failures++
		case Error:
			c.Error = &junit.Message{Message: barredLine(res.Message), Text: res.Message}
			*s.Errors++
		case Skip:
			c.Skipped = &junit.Message{}
			*s.Skipped++
		}
		s.Tests++
		out.Tests++
		s.Cases = append(s.Cases, c)
	}
	return junit.Write(w, out)
}
