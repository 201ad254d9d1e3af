package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/verdict-dev/verdict/policies/verify"
)

type verifyOptions struct {
	streams         IOStreams
	output          string
	verbose         bool
	allowedBuiltins []string
	now             string
	paths           []string
	pinned          time.Time
}

func newVerifyCmd(streams IOStreams) *cobra.Command {
	o := &verifyOptions{streams: streams}
	cmd := &cobra.Command{
		Use:   "verify [-v] [-o text|json|junit] SUITE_FILE|DIR|DIR/... ...",
		Short: "Run policy unit tests: Gatekeeper Suite files and verdict Suite files",
		Long: `Run the cases of suite files and report one line per case.

Gatekeeper Suite files (test.gatekeeper.sh/v1alpha1) run with the semantics of gator verify: objects
are judged exactly as written, and an object may be an AdmissionReview for UPDATE and DELETE cases.
Where a ConstraintTemplate has both a Rego and a K8sNativeValidation block, each case runs under both
engines, and engines that disagree fail the case.

A policy that reads the clock (time.now_ns) judges by the day it runs; --now pins the time it sees.

A folder is searched recursively for files named suite.yaml; DIR/... (as gator takes it) for every
YAML file that is a Suite.

Exit status: 0 when every case passed, 1 when a case failed, 2 when a suite is broken (a missing
file, a template that does not compile, an invalid assertion) or the arguments are bad.`,
		Example: `  verdict verify policies/
  verdict verify -v general/requiredlabels/suite.yaml
  verdict verify -o junit library/... > verify.xml
  verdict verify --now 2030-01-01T00:00:00Z certificates/suite.yaml`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.complete(args); err != nil {
				return withCode(exitBadInput, err)
			}
			return o.run(cmd)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.output, "output", "o", "text", "output format: "+strings.Join(verify.Formats, "|"))
	f.BoolVarP(&o.verbose, "verbose", "v", false, "print what each engine said about passing cases")
	f.StringArrayVar(&o.allowedBuiltins, "allow-builtin", nil, "allow a Rego builtin that reaches outside the evaluation (repeatable)")
	f.StringVar(&o.now, "now", "", "the time Rego policies see (time.now_ns), as RFC 3339 (2030-01-02T15:04:05Z), so that suites of policies that read the clock are reproducible")
	return cmd
}

func (o *verifyOptions) complete(args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("no suites given: name suite files or folders")
	}
	o.paths = args
	if o.now != "" {
		t, err := time.Parse(time.RFC3339Nano, o.now)
		if err != nil {
			return fmt.Errorf("--now %q: want an RFC 3339 time such as 2030-01-02T15:04:05Z", o.now)
		}
		o.pinned = t
	}
	for _, f := range verify.Formats {
		if o.output == f {
			return nil
		}
	}
	return fmt.Errorf("--output %q: must be one of %s", o.output, strings.Join(verify.Formats, ", "))
}

func (o *verifyOptions) run(cmd *cobra.Command) error {
	report, err := verify.Run(cmd.Context(), verify.Options{Paths: o.paths, AllowedBuiltins: o.allowedBuiltins, Now: o.pinned})
	if err != nil {
		return withCode(exitBadInput, err)
	}
	if err := report.Write(o.streams.Out, o.output, o.verbose); err != nil {
		return withCode(exitBadInput, err)
	}
	switch {
	case report.Broken():
		return withCode(exitBadInput, nil)
	case report.Failed():
		return withCode(exitFindings, nil)
	}
	return nil
}
