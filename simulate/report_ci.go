package simulate

import (
	"fmt"
	"io"
	"strings"
)

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool    sarifTool     `json:"tool"`
	Results []sarifResult `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID               string       `json:"id"`
	ShortDescription sarifMessage `json:"shortDescription"`
}

type sarifMessage struct {
	Text string `json:"text"`
}

type sarifResult struct {
	RuleID    string          `json:"ruleId"`
	Level     string          `json:"level"`
	Message   sarifMessage    `json:"message"`
	Locations []sarifLocation `json:"locations"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical `json:"physicalLocation"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           *sarifRegion  `json:"region,omitempty"`
}

type sarifArtifact struct {
	URI string `json:"uri"`
}

type sarifRegion struct {
	StartLine int `json:"startLine"`
}

func sarifLocations(file string, line int) []sarifLocation {
	if file == "" || file == "-" {
		return []sarifLocation{}
	}
	loc := sarifLocation{PhysicalLocation: sarifPhysical{ArtifactLocation: sarifArtifact{URI: file}}}
	if line > 0 {
		loc.PhysicalLocation.Region = &sarifRegion{StartLine: line}
	}
	return []sarifLocation{loc}
}

// sarif has one rule per stage ("simulate/authorization", "simulate/admission:PodSecurity"), an
// error per refused object and a warning per API server warning.
func (r *Report) sarif() sarifLog {
	run := sarifRun{
		Tool:    sarifTool{Driver: sarifDriver{Name: "verdict", InformationURI: "https://github.com/verdict-dev/verdict", Rules: []sarifRule{}}},
		Results: []sarifResult{},
	}
	seen := map[string]bool{}
	rule := func(id, text string) string {
		id = "simulate/" + id
		if !seen[id] {
			seen[id] = true
			run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, sarifRule{ID: id, ShortDescription: sarifMessage{Text: text}})
		}
		return id
	}
	for i := range r.Results {
		res := &r.Results[i]
		if res.Refused() {
			id := rule(res.Stage, "the API server refuses the object at "+res.Stage)
			run.Results = append(run.Results, sarifResult{RuleID: id, Level: "error",
				Message: sarifMessage{Text: res.object() + ": " + res.Message}, Locations: sarifLocations(res.File, res.Line)})
		}
		for _, w := range res.Warnings {
			id := rule("warning", "the API server warns of the object")
			run.Results = append(run.Results, sarifResult{RuleID: id, Level: "warning",
				Message: sarifMessage{Text: res.object() + ": " + w}, Locations: sarifLocations(res.File, res.Line)})
		}
	}
	return sarifLog{Schema: "https://json.schemastore.org/sarif-2.1.0.json", Version: "2.1.0", Runs: []sarifRun{run}}
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
