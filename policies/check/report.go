package check

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"sigs.k8s.io/yaml"

	"github.com/verdict-dev/verdict/internal/jsonout"
	"github.com/verdict-dev/verdict/internal/junit"
	"github.com/verdict-dev/verdict/internal/sarif"
	"github.com/verdict-dev/verdict/policies"
)

// Formats lists the output formats of Write.
var Formats = []string{"table", "json", "yaml", "junit", "sarif", "github"}

// Write writes the report in one of Formats.
func (r *Report) Write(w io.Writer, format string) error {
	switch format {
	case "", "table":
		return r.writeTable(w)
	case "json":
		return jsonout.Indented(w, r)
	case "yaml":
		data, err := yaml.Marshal(r)
		if err != nil {
			return err
		}
		_, err = w.Write(data)
		return err
	case "junit":
		return r.writeJUnit(w)
	case "sarif":
		return jsonout.Indented(w, r.sarif())
	case "github":
		return r.writeGitHub(w)
	}
	return fmt.Errorf("unknown output format %q (want one of %s)", format, strings.Join(Formats, ", "))
}

// object names a result's object as kubectl does: Kind/namespace/name, or Kind/name without namespace.
func (res *Result) object() string {
	if res.Namespace == "" {
		return res.Kind + "/" + res.Name
	}
	return res.Kind + "/" + res.Namespace + "/" + res.Name
}

// source names where the object is, as an editor opens it: file:line.
func (res *Result) source() string { return location(res.File, res.Line) }

func location(file string, line int) string {
	if line <= 0 {
		return file
	}
	return fmt.Sprintf("%s:%d", file, line)
}

// where names an error's place: file:line[:column] and the document.
func (e *Error) where() string {
	s := location(e.File, e.Line)
	if e.Line > 0 && e.Column > 0 {
		s += fmt.Sprintf(":%d", e.Column)
	}
	if e.Document > 0 {
		s += fmt.Sprintf(": document %d", e.Document)
	}
	return s
}

func (e *Error) String() string {
	if e.File == "" {
		return e.Message
	}
	return e.where() + ": " + e.Message
}

// summary is the closing line of the table and github formats.
func (r *Report) summary() string {
	s := fmt.Sprintf("%d %s checked: %d denied, %d warned", r.Summary.Objects, plural(r.Summary.Objects, "object"), r.Summary.Denied, r.Summary.Warned)
	if n := len(r.Errors); n > 0 {
		s += fmt.Sprintf(", %d %s not judged", n, plural(n, "document"))
	}
	return s
}

func (res *Result) policyName() string {
	if res.Binding == "" || res.Binding == res.Policy {
		return res.Policy
	}
	return res.Policy + " (" + res.Binding + ")"
}

func (r *Report) writeTable(w io.Writer) error {
	if len(r.Results) > 0 {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ACTION\tPOLICY\tOBJECT\tSOURCE\tMESSAGE")
		for i := range r.Results {
			res := &r.Results[i]
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", res.Action, res.policyName(), res.object(), res.source(), policies.OneLine(res.Message))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		fmt.Fprintln(w)
	}
	_, err := fmt.Fprintln(w, r.summary())
	return err
}

func plural(n int, s string) string {
	if n == 1 {
		return s
	}
	return s + "s"
}

// writeJUnit writes one test case per object, failing on its denials; warnings and audits go to
// system-out, and each document that could not be judged is an errored case.
func (r *Report) writeJUnit(w io.Writer) error {
	suite := junit.Suite{Name: "verdict check"}
	for _, obj := range r.objects() {
		c := junit.Case{Name: obj.results[0].object(), ClassName: obj.results[0].source()}
		var denials, notes []string
		for _, res := range obj.results {
			if res.Policy == "" {
				continue // an object without findings
			}
			line := fmt.Sprintf("%s: %s", res.policyName(), policies.OneLine(res.Message))
			if res.Action == "deny" {
				denials = append(denials, line)
			} else {
				notes = append(notes, res.Action+" "+line)
			}
		}
		if len(denials) > 0 {
			c.Failure = &junit.Message{Message: denials[0], Type: "deny", Text: strings.Join(denials, "\n")}
			suite.Failures++
		}
		c.SystemOut = strings.Join(notes, "\n")
		suite.Cases = append(suite.Cases, c)
	}
	for i := range r.Errors {
		e := &r.Errors[i]
		msg := policies.OneLine(e.Message)
		suite.Cases = append(suite.Cases, junit.Case{Name: e.where(), ClassName: location(e.File, e.Line),
			Error: &junit.Message{Message: msg, Type: "input", Text: msg}})
	}
	suite.Tests, suite.Errors = len(suite.Cases), new(len(r.Errors))
	return junit.Write(w, junit.Suites{Name: "verdict", Tests: suite.Tests, Failures: suite.Failures, Errors: suite.Errors, Suites: []junit.Suite{suite}})
}

type objectResults struct{ results []Result }

// objects groups results by object, in input order; objects without findings are kept as a
// placeholder result with no policy, so that JUnit lists every object judged.
func (r *Report) objects() []objectResults {
	var out []objectResults
	index := map[string]int{}
	for _, res := range r.all {
		key := fmt.Sprintf("%s#%d/%s/%s/%s", res.File, res.Document, res.Kind, res.Namespace, res.Name)
		i, ok := index[key]
		if !ok {
			i = len(out)
			index[key] = i
			out = append(out, objectResults{})
		}
		out[i].results = append(out[i].results, res)
	}
	return out
}

// inputErrorRule is the SARIF rule of documents that could not be read or judged.
const inputErrorRule = "verdict/input-error"

var sarifLevels = map[string]string{"deny": "error", "warn": "warning", "audit": "note"}

func (r *Report) sarif() sarif.Log {
	rules := map[string]bool{}
	run := sarif.NewRun()
	for i := range r.Results {
		res := &r.Results[i]
		if !rules[res.Policy] {
			rules[res.Policy] = true
			run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, sarif.Rule{ID: res.Policy, ShortDescription: sarif.Message{Text: "policy " + res.Policy}})
		}
		run.Results = append(run.Results, sarif.Result{
			RuleID:    res.Policy,
			Level:     sarifLevels[res.Action],
			Message:   sarif.Message{Text: fmt.Sprintf("%s: %s", res.object(), res.Message)},
			Locations: sarif.Locations(res.File, res.Line, 0),
		})
	}
	for i := range r.Errors {
		e := &r.Errors[i]
		if !rules[inputErrorRule] {
			rules[inputErrorRule] = true
			run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, sarif.Rule{ID: inputErrorRule, ShortDescription: sarif.Message{Text: "a document that could not be read or judged"}})
		}
		run.Results = append(run.Results, sarif.Result{RuleID: inputErrorRule, Level: "error", Message: sarif.Message{Text: e.Message}, Locations: sarif.Locations(e.File, e.Line, e.Column)})
	}
	sort.Slice(run.Tool.Driver.Rules, func(i, j int) bool { return run.Tool.Driver.Rules[i].ID < run.Tool.Driver.Rules[j].ID })
	return sarif.Log{Schema: sarif.Schema, Version: sarif.Version, Runs: []sarif.Run{run}}
}

// GitHub workflow commands: ::error file=F,line=L,title=T::message
var githubLevels = map[string]string{"deny": "error", "warn": "warning", "audit": "notice"}

func (r *Report) writeGitHub(w io.Writer) error {
	for i := range r.Results {
		res := &r.Results[i]
		props := githubFile(res.File, res.Line, 0) + "title=" + escapeProperty(res.policyName())
		if _, err := fmt.Fprintf(w, "::%s %s::%s\n", githubLevels[res.Action], props, escapeData(res.object()+": "+res.Message)); err != nil {
			return err
		}
	}
	for i := range r.Errors {
		e := &r.Errors[i]
		props := githubFile(e.File, e.Line, e.Column) + "title=" + escapeProperty("not judged")
		if _, err := fmt.Fprintf(w, "::error %s::%s\n", props, escapeData(e.Message)); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintln(w, r.summary())
	return err
}

// githubFile is the file, line and column properties of an annotation, followed by a comma; none for
// standard input, which names no file of the repository.
func githubFile(file string, line, col int) string {
	if file == "" || file == "-" {
		return ""
	}
	props := "file=" + escapeProperty(file)
	if line > 0 {
		props += fmt.Sprintf(",line=%d", line)
		if col > 0 {
			props += fmt.Sprintf(",col=%d", col)
		}
	}
	return props + ","
}

// escapeData and escapeProperty follow the escaping of GitHub's actions/toolkit.
func escapeData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

func escapeProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}
