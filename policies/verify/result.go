package verify

import (
	"context"
	"fmt"
	"time"

	"github.com/verdict-dev/verdict/policies"
	vrego "github.com/verdict-dev/verdict/policies/rego"
)

// caseTimeout bounds the evaluation of one case, as check bounds one object: a runaway policy
// fails its case instead of hanging the run.
const caseTimeout = policies.DefaultTimeout

// Status is the outcome of one case.
type Status string

// The statuses of a case. Error is a broken case (a missing file, a template that does not compile,
// an invalid regular expression): it neither passed nor failed.
const (
	Pass  Status = "pass"
	Fail  Status = "fail"
	Skip  Status = "skip"
	Error Status = "error"
)

// Result is the outcome of one case (or of a test with no cases, such as gator's invalid tests, or of
// a suite that could not be read, with empty Test and Case).
type Result struct {
	Suite     string   `json:"suite"`
	SuiteName string   `json:"suiteName,omitempty"`
	Test      string   `json:"test,omitempty"`
	Case      string   `json:"case,omitempty"`
	Status    Status   `json:"status"`
	Message   string   `json:"message,omitempty"`
	Engines   []Engine `json:"engines,omitempty"`
}

// Engine is what one engine said about a case.
type Engine struct {
	Engine     string   `json:"engine"`
	Passed     bool     `json:"passed"`
	Violations []string `json:"violations"`
	Failure    string   `json:"failure,omitempty"`
}

// Name is "test/case" (or whichever of them is set).
func (r Result) Name() string {
	switch {
	case r.Test != "" && r.Case != "":
		return r.Test + "/" + r.Case
	case r.Test != "":
		return r.Test
	}
	return r.Case
}

// Summary counts the results.
type Summary struct {
	Passed  int `json:"passed"`
	Failed  int `json:"failed"`
	Skipped int `json:"skipped"`
	Errors  int `json:"errors"`
}

// Report is the outcome of a run.
type Report struct {
	Results []Result `json:"results"`
	Summary Summary  `json:"summary"`
}

func (r *Report) add(res Result) {
	r.Results = append(r.Results, res)
	switch res.Status {
	case Pass:
		r.Summary.Passed++
	case Fail:
		r.Summary.Failed++
	case Skip:
		r.Summary.Skipped++
	case Error:
		r.Summary.Errors++
	}
}

// Failed reports whether any case failed.
func (r *Report) Failed() bool { return r.Summary.Failed > 0 }

// Broken reports whether any suite, test or case could not run.
func (r *Report) Broken() bool { return r.Summary.Errors > 0 }

// Options say what to run.
type Options struct {
	// Paths are suite files and folders (DIR searched for suite.yaml, DIR/... for every Suite).
	Paths []string
	// AllowedBuiltins are Rego builtins that reach outside the evaluation and that the operator allows.
	AllowedBuiltins []string
	// Now, when set, is the time every Rego evaluation sees (time.now_ns), so that the cases of a
	// policy that reads the clock pass or fail the same way on every run. Zero is the real clock.
	Now time.Time
}

// Run finds the suites of the paths and runs them all. It fails only when the paths cannot be read;
// everything else is a result.
func Run(ctx context.Context, opts Options) (*Report, error) {
	files, err := Files(opts.Paths)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no suites found in %v: a folder is searched for files named %s (DIR/... for every Suite)", opts.Paths, SuiteFileName)
	}
	if !opts.Now.IsZero() {
		ctx = vrego.WithNow(ctx, opts.Now)
	}
	r := &Report{}
	for _, f := range files {
		runSuiteFile(ctx, f, opts, r)
	}
	return r, nil
}

func runSuiteFile(ctx context.Context, path string, opts Options, r *Report) {
	data, h, err := readSuiteFile(path)
	if err != nil {
		r.add(Result{Suite: path, Status: Error, Message: err.Error()})
		return
	}
	if h.APIVersion == VerdictAPIVersion {
		runVerdictSuite(ctx, path, data, opts, r)
		return
	}
	runGatorSuite(ctx, path, data, opts, r)
}
