package audit

import (
	"fmt"
	"io"
	"strings"

	"github.com/verdict-dev/verdict/internal/jsonout"
	"github.com/verdict-dev/verdict/policies"
	"github.com/verdict-dev/verdict/policies/check"
	"github.com/verdict-dev/verdict/policies/source"
)

// Formats lists the output formats of Write.
var Formats = []string{"table", "json", "policyreport"}

// Write writes the report in one of Formats; coverage adds the kinds no policy takes and the
// policies that judged nothing (to the table and JSON; PolicyReports have no place for them).
func (r *Report) Write(w io.Writer, format string, coverage bool) error {
	switch format {
	case "", "table":
		if err := r.Check().Write(w, "table"); err != nil {
			return err
		}
		if coverage {
			return r.writeCoverage(w)
		}
		return nil
	case "json":
		out := jsonReport{Report: r.Check()}
		if coverage {
			out.Coverage = r.coverage()
		}
		return jsonout.Indented(w, out)
	case "policyreport":
		return writeYAML(w, r.PolicyReports())
	}
	return fmt.Errorf("unknown output format %q (want one of %s)", format, strings.Join(Formats, ", "))
}

// Check is the report in the shape of verdict check's: a result per finding (passes are not
// listed), an error per object or evaluation that could not be judged, each of file "cluster".
func (r *Report) Check() *check.Report {
	out := &check.Report{Results: []check.Result{}, Errors: []check.Error{},
		Summary: check.Summary{Objects: r.Objects, Denied: r.Denied, Warned: r.Warned, Errors: r.Errors}}
	for _, u := range r.Unlisted {
		out.Errors = append(out.Errors, check.Error{File: source.ClusterFile, Message: u})
	}
	for _, e := range r.Entries {
		switch e.Result {
		case Pass:
		case Error:
			out.Errors = append(out.Errors, check.Error{File: source.ClusterFile, Message: describe(e.Object) + ": " + e.Message})
		default:
			out.Results = append(out.Results, check.Result{File: source.ClusterFile,
				APIVersion: e.Object.APIVersion, Kind: e.Object.Kind, Namespace: e.Object.RequestNamespace, Name: e.Object.Name,
				Policy: e.Policy.Policy, Binding: e.Policy.Binding, Engine: string(e.Policy.Engine), Action: string(e.Action), Message: e.Message})
		}
	}
	return out
}

// describe names an object as kubectl does: Kind namespace/name.
func describe(o Object) string {
	if o.Namespace == "" {
		return o.Kind + " " + o.Name
	}
	return o.Kind + " " + o.Namespace + "/" + o.Name
}

type jsonReport struct {
	*check.Report
	Coverage *Coverage `json:"coverage,omitempty"`
}

// Coverage says what the policies leave out: the kinds that no policy takes, and the policies
// (with their bindings) that judged no object, beside the kinds listed.
type Coverage struct {
	Listed    []Kind        `json:"listed"`
	Uncovered []string      `json:"uncovered"`
	Unused    []UnusedEntry `json:"unused"`
}

// UnusedEntry is a policy, with its binding, that judged nothing.
type UnusedEntry struct {
	Kind    string `json:"kind"`
	Policy  string `json:"policy"`
	Binding string `json:"binding"`
}

func (r *Report) coverage() *Coverage {
	c := &Coverage{Listed: append([]Kind{}, r.Kinds...), Uncovered: append([]string{}, r.Uncovered...), Unused: []UnusedEntry{}}
	for _, ref := range r.Unused {
		c.Unused = append(c.Unused, UnusedEntry{Kind: ref.Format, Policy: ref.Policy, Binding: ref.Binding})
	}
	return c
}

func (r *Report) writeCoverage(w io.Writer) error {
	var kinds []string
	for _, k := range r.Kinds {
		kinds = append(kinds, fmt.Sprintf("%s (%d)", k.Resource, k.Objects))
	}
	var unused []string
	for _, ref := range r.Unused {
		unused = append(unused, refName(ref))
	}
	_, err := fmt.Fprintf(w, "\nKinds listed (%d): %s\nKinds no policy takes (%d): %s\nPolicies that judged no object (%d): %s\n",
		len(kinds), orNone(kinds), len(r.Uncovered), orNone(r.Uncovered), len(unused), orNone(unused))
	return err
}

// refName names a policy and its binding as check's table does: policy (binding).
func refName(ref policies.Ref) string {
	name := ref.Format + " " + ref.Policy
	if ref.Binding != "" && ref.Binding != ref.Policy {
		name += " (" + ref.Binding + ")"
	}
	return name
}

func orNone(items []string) string {
	if len(items) == 0 {
		return "none"
	}
	return strings.Join(items, ", ")
}
