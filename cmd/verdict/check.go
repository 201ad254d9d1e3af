package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/verdict-dev/verdict/policies"
	"github.com/verdict-dev/verdict/policies/check"
)

type checkOptions struct {
	streams IOStreams
	manifestFlags
	output     string
	inventory  []string
	failOnWarn bool
}

// note prints what verdict skipped or assumed, on standard error, where CI logs keep it apart from
// the report.
func note(streams IOStreams, notes []string) {
	for _, n := range notes {
		fmt.Fprintln(streams.ErrOut, "note:", n)
	}
}

func newCheckCmd(streams IOStreams) *cobra.Command {
	o := &checkOptions{streams: streams}
	cmd := &cobra.Command{
		Use:   "check [-p PATH]... [-o FORMAT] FILE|DIR|- ...",
		Short: "Judge manifests with the policies, as the admission webhook would",
		Long: `Judge each object of the manifests against the policies (the embedded default set without -p),
as the API server would present it to admission after kubectl apply.

Exit status: 0 when nothing is denied, 1 when any policy denies, 2 on bad input or a bad policy.
Warnings and audit findings never fail the run, unless --fail-on-warn makes a warning exit 1 too.`,
		Example: `  verdict check deploy.yaml
  verdict check -p policies/ -o json manifests/
  kustomize build overlays/prod | verdict check -p policies/ -o github -`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.complete(args); err != nil {
				return withCode(exitBadInput, err)
			}
			return o.run(cmd)
		},
	}
	f := cmd.Flags()
	o.manifestFlags.add(f, "CREATE|UPDATE|DELETE")
	f.StringVarP(&o.output, "output", "o", "table", "output format: "+strings.Join(check.Formats, "|"))
	f.BoolVar(&o.failOnWarn, "fail-on-warn", false, "exit 1 when any policy warns, as conftest --fail-on-warn does")
	f.StringArrayVar(&o.inventory, "inventory", nil, "objects for data.inventory of referential Gatekeeper policies (repeatable)")
	return cmd
}

func (o *checkOptions) complete(args []string) error {
	if err := o.manifestFlags.complete(args, policies.Create, policies.Update, policies.Delete); err != nil {
		return err
	}
	for _, f := range check.Formats {
		if o.output == f {
			return nil
		}
	}
	return fmt.Errorf("--output %q: must be one of %s", o.output, strings.Join(check.Formats, ", "))
}

func (o *checkOptions) run(cmd *cobra.Command) error {
	opts := o.manifestFlags.options(o.streams.In)
	opts.Inventory = o.inventory
	report, err := check.Run(cmd.Context(), opts)
	if err != nil {
		return withCode(exitBadInput, err)
	}
	note(o.streams, report.Notes)
	for _, w := range report.Warnings {
		fmt.Fprintln(o.streams.ErrOut, "Warning:", w)
	}
	if err := report.Write(o.streams.Out, o.output); err != nil {
		return withCode(exitBadInput, err)
	}
	if report.Failed() {
		for _, e := range report.Errors {
			fmt.Fprintln(o.streams.ErrOut, "error:", e.String())
		}
		return withCode(exitBadInput, nil)
	}
	if report.Denied() || (o.failOnWarn && report.Warned()) {
		return withCode(exitFindings, nil)
	}
	return nil
}
