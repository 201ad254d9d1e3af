package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/verdict-dev/verdict/policies"
	"github.com/verdict-dev/verdict/policies/library"
	"github.com/verdict-dev/verdict/policies/mutate"
)

type mutateOptions struct {
	streams IOStreams
	manifestFlags
	output string
	diff   bool
}

func newMutateCmd(streams IOStreams) *cobra.Command {
	o := &mutateOptions{streams: streams}
	cmd := &cobra.Command{
		Use:   "mutate [-p PATH]... [-o yaml|json] [--diff] FILE|DIR|- ...",
		Short: "Print manifests as the cluster would store them after the mutating policies",
		Long: `Run the mutating policies (MutatingAdmissionPolicies and Rego patch rules) on each object of the
manifests and print the objects as the cluster would store them, in input order. Namespaces and
params among the inputs are used, not printed. --diff prints a unified diff instead.

Exit status: 0, or 2 on bad input, a bad policy, or a policy that refuses an object.`,
		Example: `  verdict mutate -p policies/ deploy.yaml
  verdict mutate -p policies/ --diff manifests/`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.complete(args); err != nil {
				return withCode(exitBadInput, err)
			}
			return o.run(cmd)
		},
	}
	f := cmd.Flags()
	o.manifestFlags.add(f, "CREATE|UPDATE")
	f.StringVarP(&o.output, "output", "o", "yaml", "output format: "+strings.Join(mutate.Formats, "|"))
	f.BoolVar(&o.diff, "diff", false, "print a unified diff of each changed object instead of the objects")
	return cmd
}

func (o *mutateOptions) complete(args []string) error {
	if err := o.manifestFlags.complete(args, policies.Create, policies.Update); err != nil {
		return err
	}
	if o.output != "yaml" && o.output != "json" {
		return fmt.Errorf("--output %q: must be one of %s", o.output, strings.Join(mutate.Formats, ", "))
	}
	return nil
}

func (o *mutateOptions) run(cmd *cobra.Command) error {
	report, err := mutate.Run(cmd.Context(), mutate.Options{
		Policies: o.policies, Library: library.FS, Inputs: o.inputs, Stdin: o.streams.In,
		Operation: o.op, Namespace: o.namespace, AllowedBuiltins: o.allowed,
		AsWritten: o.asWritten, Strict: o.strict,
	})
	if err != nil {
		return withCode(exitBadInput, err)
	}
	note(o.streams, report.Notes)
	for _, w := range report.Warnings {
		fmt.Fprintln(o.streams.ErrOut, "Warning:", w)
	}
	if o.diff {
		err = report.WriteDiff(o.streams.Out)
	} else {
		err = report.Write(o.streams.Out, o.output)
	}
	if err != nil {
		return withCode(exitBadInput, err)
	}
	if err := report.Err(); err != nil {
		return withCode(exitBadInput, err)
	}
	return nil
}
