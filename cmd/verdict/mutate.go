package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/verdict-dev/verdict/policies"
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
params among the inputs are used, not printed. --diff prints a unified diff instead, of the
objects that the policies change.

Exit status: 0, or 2 on bad input, a bad policy, or a policy that refuses an object. With --diff,
as kubectl diff: 0 when no object changes, 1 when one does.`,
		Example: `  verdict mutate -p policies/ deploy.yaml
  verdict mutate -p policies/ --diff manifests/`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.complete(args); err != nil {
				return withCode(exitBadInput, err)
			}
			if o.diff && cmd.Flags().Changed("output") {
				return withCode(exitBadInput, fmt.Errorf("--output and --diff cannot be used together: --diff prints a diff, not the objects"))
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
	report, err := mutate.Run(cmd.Context(), o.manifestFlags.options(o.streams.In))
	if err != nil {
		return withCode(exitBadInput, err)
	}
	note(o.streams, report.Notes)
	for _, w := range report.Warnings {
		fmt.Fprintln(o.streams.ErrOut, "Warning:", w)
	}
	changed := false
	if o.diff {
		w := &countingWriter{w: o.streams.Out}
		err = report.WriteDiff(w)
		changed = w.n > 0
	} else {
		err = report.Write(o.streams.Out, o.output)
	}
	if err != nil {
		return withCode(exitBadInput, err)
	}
	if err := report.Err(); err != nil {
		return withCode(exitBadInput, err)
	}
	if changed {
		return withCode(exitFindings, nil)
	}
	return nil
}

// countingWriter counts what WriteDiff writes: it writes nothing for an object that no policy changes.
type countingWriter struct {
	w io.Writer
	n int
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += n
	return n, err
}
