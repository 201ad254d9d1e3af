package simulate

import (
	"fmt"
	"io"
	"strings"

	"github.com/verdict-dev/verdict/internal/sarif"
)

// sarif has one rule per stage ("simulate/authorization", "simulate/admission:PodSecurity"), an
// error per refused object and a warning per API server warning.
func (r *Report) sarif() sarif.Log {
	run := sarif.NewRun()
	seen := map[string]bool{}
	rule := func(id, text string) string {
		id = "simulate/" + id
		if !seen[id] {
			seen[id] = true
			run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, sarif.Rule{ID: id, ShortDescription: sarif.Message{Text: text}})
		}
		return id
	}
	for i := range r.Results {
		res := &r.Results[i]
		if res.Refused() {
			id := rule(res.Stage, "the API server refuses the object at "+res.Stage)
			run.Results = append(run.Results, sarif.Result{RuleID: id, Level: "error",
				Message: sarif.Message{Text: res.object() + ": " + res.Message}, Locations: sarif.Locations(res.File, res.Line, 0)})
		}
		for _, w := range res.Warnings {
			id := rule("warning", "the API server warns of the object")
			run.Results = append(run.Results, sarif.Result{RuleID: id, Level: "warning",
				Message: sarif.Message{Text: res.object() + ": " + w}, Locations: sarif.Locations(res.File, res.Line, 0)})
		}
	}
	return sarif.Log{Schema: sarif.Schema, Version: sarif.Version, Runs: []sarif.Run{run}}
}

// writeGitHub writes GitHub workflow commands: an error per refused object, a warning per API
// server warning, then the summary.
func (r *Report) writeGitHub(w io.Writer) error {
	var b strings.Builder
	for i := range r.Results {
		res := &r.Results[i]
		if res.Refused() {
			fmt.Fprintf(&b, "::error %stitle=%s::%s\n", githubFile(res.File, res.Line), escapeProperty("refused at "+res.Stage), escapeData(res.object()+": "+res.Message))
		}
		for _, warning := range res.Warnings {
			fmt.Fprintf(&b, "::warning %stitle=%s::%s\n", githubFile(res.File, res.Line), escapeProperty("API server warning"), escapeData(res.object()+": "+warning))
		}
	}
	b.WriteString(r.Summary() + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func githubFile(file string, line int) string {
	if file == "" || file == "-" {
		return ""
	}
	props := "file=" + escapeProperty(file)
	if line > 0 {
		props += fmt.Sprintf(",line=%d", line)
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
