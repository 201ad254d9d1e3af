package rbacsim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"k8s.io/apiserver/pkg/authorization/authorizer"
	"sigs.k8s.io/yaml"

	"github.com/verdict-dev/verdict/internal/yamlsubset"
)

// Check is one expected answer of a checks file (see docs/contract.md, "rbac check").
type Check struct {
	As             string   `json:"as"`
	Groups         []string `json:"groups,omitempty"`
	Verb           string   `json:"verb"`
	Resource       string   `json:"resource,omitempty"` // resource[.group]
	Subresource    string   `json:"subresource,omitempty"`
	Name           string   `json:"name,omitempty"`
	Namespace      string   `json:"namespace,omitempty"`
	NonResourceURL string   `json:"nonResourceURL,omitempty"`
	// Request is a raw API request, "METHOD PATH[?QUERY]", instead of verb and resource or URL.
	Request string `json:"request,omitempty"`
	Allowed *bool  `json:"allowed"`
}

type checksFile struct {
	Checks []Check `json:"checks"`
}

// CheckResult is the outcome of one check.
type CheckResult struct {
	Index    int    `json:"index"`
	Allowed  bool   `json:"allowed"`
	Expected bool   `json:"expected"`
	Pass     bool   `json:"pass"`
	Reason   string `json:"reason"`
	check    Check
}

// decodeChecks decodes a checks file strictly (unknown fields and duplicate keys are errors).
// A file in the plain subset of YAML is decoded by yamlsubset, ten times faster than go-yaml for
// thousands of checks; any other file, or one that does not decode, goes through
// sigs.k8s.io/yaml, whose errors are the ones reported.
func decodeChecks(data []byte) (checksFile, error) {
	var cf checksFile
	if obj, ok := yamlsubset.Decode(data); ok {
		if j, err := json.Marshal(obj); err == nil {
			dec := json.NewDecoder(bytes.NewReader(j))
			dec.DisallowUnknownFields()
			if dec.Decode(&cf) == nil {
				return cf, nil
			}
			cf = checksFile{}
		}
	}
	err := yaml.UnmarshalStrict(data, &cf)
	return cf, err
}

// ParseChecks reads a checks file. Unknown fields and incomplete checks are errors.
func ParseChecks(file string, data []byte) ([]Check, error) {
	cf, err := decodeChecks(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if cf.Checks == nil {
		return nil, fmt.Errorf("%s: no checks (expected a top-level \"checks\" list)", file)
	}
	for i, c := range cf.Checks {
		var problems []string
		if c.As == "" {
			problems = append(problems, "as is required")
		}
		if c.Allowed == nil {
			problems = append(problems, "allowed is required (true or false)")
		}
		if c.Request != "" {
			if c.Verb != "" || c.Resource != "" || c.Subresource != "" || c.Name != "" || c.Namespace != "" || c.NonResourceURL != "" {
				problems = append(problems, "request cannot be used with verb, resource, subresource, name, namespace or nonResourceURL: the request says them")
			} else if _, err := ParseRequest(c.Request); err != nil {
				problems = append(problems, err.Error())
			}
		} else if c.Verb == "" {
			problems = append(problems, "verb is required (or a request)")
		}
		switch {
		case c.Request != "":
		case c.Resource == "" && c.NonResourceURL == "":
			problems = append(problems, "one of resource, nonResourceURL or request is required")
		case c.Resource != "" && c.NonResourceURL != "":
			problems = append(problems, "resource and nonResourceURL cannot both be set")
		case c.NonResourceURL != "":
			if !strings.HasPrefix(c.NonResourceURL, "/") {
				problems = append(problems, "nonResourceURL must start with /")
			}
			if c.Subresource != "" || c.Name != "" || c.Namespace != "" {
				problems = append(problems, "a nonResourceURL check takes no subresource, name or namespace")
			}
		}
		if len(problems) > 0 {
			return nil, fmt.Errorf("%s: checks[%d]: %s", file, i, strings.Join(problems, "; "))
		}
	}
	return cf.Checks, nil
}

// Attributes turns a check into the request the API server would authorize.
func (c Check) Attributes() (authorizer.AttributesRecord, error) {
	u, err := Impersonate(c.As, c.Groups)
	if err != nil {
		return authorizer.AttributesRecord{}, err
	}
	attrs, err := c.request()
	attrs.User = u
	return attrs, err
}

// request is the check's request, with no user.
func (c Check) request() (authorizer.AttributesRecord, error) {
	if c.Request != "" {
		return ParseRequest(c.Request)
	}
	if c.NonResourceURL != "" {
		return authorizer.AttributesRecord{Verb: c.Verb, Path: c.NonResourceURL}, nil
	}
	resource, group, _ := strings.Cut(c.Resource, ".")
	return authorizer.AttributesRecord{Verb: c.Verb, Namespace: c.Namespace, APIGroup: group,
		Resource: resource, Subresource: c.Subresource, Name: c.Name, ResourceRequest: true}, nil
}

// describe is the check's request in can-i terms, after the raw request when it is one.
func (c Check) describe() string {
	attrs, err := c.request()
	if c.Request == "" {
		return Describe(attrs)
	}
	s := strings.Join(strings.Fields(c.Request), " ")
	if err == nil {
		s += " (" + Describe(attrs) + ")"
	}
	return s
}

// RunChecks decides every check. The reason of an allowed check names the binding, role and rule.
func (m *Model) RunChecks(ctx context.Context, checks []Check) ([]CheckResult, error) {
	out := make([]CheckResult, 0, len(checks))
	for i, c := range checks {
		attrs, err := c.Attributes()
		if err != nil {
			return nil, fmt.Errorf("checks[%d]: %w", i, err)
		}
		ans, err := m.Decide(ctx, attrs)
		if err != nil {
			return nil, fmt.Errorf("checks[%d]: %w", i, err)
		}
		out = append(out, CheckResult{Index: i, Allowed: ans.Allowed, Expected: *c.Allowed, Pass: ans.Allowed == *c.Allowed, Reason: ans.Reason, check: c})
	}
	return out, nil
}

// UnknownResources returns a note for each check whose resource is not a known type.
func (m *Model) UnknownResources(checks []Check) []string {
	var notes []string
	for i, c := range checks {
		if c.Resource == "" {
			continue
		}
		resource, group, _ := strings.Cut(c.Resource, ".")
		if resource == "*" || m.resolver.Lookup(group, resource) != nil || (group == "" && nonStandardResources[resource]) {
			continue
		}
		notes = append(notes, fmt.Sprintf("checks[%d]: resource %q in API group %q is not a known type; checked as written", i, resource, group))
	}
	return notes
}

// WriteCheckTable prints one line per check and a closing line "N passed, N failed".
func WriteCheckTable(w io.Writer, results []CheckResult) error {
	tw := tabwriter.NewWriter(w, 6, 4, 3, ' ', 0)
	fmt.Fprintln(tw, "RESULT\tCHECK\tAS\tREQUEST\tEXPECTED\tACTUAL\tREASON")
	passed, failed := 0, 0
	for _, r := range results {
		res := "pass"
		if r.Pass {
			passed++
		} else {
			res = "FAIL"
			failed++
		}
		as := r.check.As
		if len(r.check.Groups) > 0 {
			as += " (groups " + strings.Join(r.check.Groups, ",") + ")"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\n", res, r.Index, as, r.check.describe(), yesNo(r.Expected), yesNo(r.Allowed), r.Reason)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "%d passed, %d failed\n", passed, failed)
	return err
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
