// Package sarif is the part of SARIF 2.1.0 that verdict's reports write, as GitHub code scanning reads
// it: one run of the verdict tool, its rules, and results located at a file's line and column.
package sarif

// Schema and Version are those of SARIF 2.1.0.
const (
	Schema  = "https://json.schemastore.org/sarif-2.1.0.json"
	Version = "2.1.0"
)

type Log struct {
	Schema  string `json:"$schema"`
	Version string `json:"version"`
	Runs    []Run  `json:"runs"`
}

type Run struct {
	Tool    Tool     `json:"tool"`
	Results []Result `json:"results"`
}

type Tool struct {
	Driver Driver `json:"driver"`
}

type Driver struct {
	Name           string `json:"name"`
	InformationURI string `json:"informationUri"`
	Rules          []Rule `json:"rules"`
}

type Rule struct {
	ID               string  `json:"id"`
	ShortDescription Message `json:"shortDescription"`
}

type Message struct {
	Text string `json:"text"`
}

type Result struct {
	RuleID    string     `json:"ruleId"`
	Level     string     `json:"level"`
	Message   Message    `json:"message"`
	Locations []Location `json:"locations"`
}

type Location struct {
	PhysicalLocation PhysicalLocation `json:"physicalLocation"`
}

type PhysicalLocation struct {
	ArtifactLocation ArtifactLocation `json:"artifactLocation"`
	Region           *Region          `json:"region,omitempty"`
}

type ArtifactLocation struct {
	URI string `json:"uri"`
}

type Region struct {
	StartLine   int `json:"startLine"`
	StartColumn int `json:"startColumn,omitempty"`
}

// NewRun is a run of verdict with no rules and no results yet (both written as [], not null).
func NewRun() Run {
	return Run{
		Tool:    Tool{Driver: Driver{Name: "verdict", InformationURI: "https://github.com/verdict-dev/verdict", Rules: []Rule{}}},
		Results: []Result{},
	}
}

// Locations locates a result at file (none for standard input), at line and column when known.
func Locations(file string, line, column int) []Location {
	if file == "" || file == "-" {
		return []Location{}
	}
	loc := Location{PhysicalLocation: PhysicalLocation{ArtifactLocation: ArtifactLocation{URI: file}}}
	if line > 0 {
		loc.PhysicalLocation.Region = &Region{StartLine: line, StartColumn: column}
	}
	return []Location{loc}
}
