package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/verdict-dev/verdict/internal/jsonout"
	"github.com/verdict-dev/verdict/rbacsim"
)

type rbacCheckOptions struct {
	rbacInputs
	ChecksFile string
	Output     string
	streams    IOStreams
	checks     []rbacsim.Check
}

func newRBACCheckCmd(streams IOStreams) *cobra.Command {
	o := &rbacCheckOptions{streams: streams}
	cmd := &cobra.Command{
		Use:   "check -f FILE|DIR|- ... --checks CHECKS.yaml",
		Short: "Check expected RBAC answers; exit 1 if any differs",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := completeValidate(o.Complete, o.Validate); err != nil {
				return err
			}
			return o.Run(c.Context())
		},
	}
	o.addFlags(cmd)
	cmd.Flags().StringVar(&o.ChecksFile, "checks", "", "checks file: the expected answers (see docs/contract.md)")
	cmd.Flags().StringVarP(&o.Output, "output", "o", "table", "output format: table or json")
	return cmd
}

func (o *rbacCheckOptions) Complete() error {
	if o.ChecksFile == "" {
		return errors.New("--checks CHECKS.yaml is required")
	}
	data, err := os.ReadFile(o.ChecksFile)
	if err != nil {
		return err
	}
	o.checks, err = rbacsim.ParseChecks(o.ChecksFile, data)
	return err
}

func (o *rbacCheckOptions) Validate() error {
	if err := o.rbacInputs.validate(); err != nil {
		return err
	}
	if o.Output != "table" && o.Output != "json" {
		return fmt.Errorf("unknown output format %q: use table or json", o.Output)
	}
	return nil
}

func (o *rbacCheckOptions) Run(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	model, err := o.load(o.streams)
	if err != nil {
		return withCode(exitBadInput, err)
	}
	for _, n := range model.UnknownResources(o.checks) {
		rbacWarn(o.streams, n)
	}
	results, err := model.RunChecks(ctx, o.checks)
	if err != nil {
		return withCode(exitBadInput, err)
	}
	if o.Output == "json" {
		err = jsonout.Compact(o.streams.Out, struct {
			Results []rbacsim.CheckResult `json:"results"`
		}{Results: append([]rbacsim.CheckResult{}, results...)})
	} else {
		err = rbacsim.WriteCheckTable(o.streams.Out, results)
	}
	if err != nil {
		return err
	}
	for _, r := range results {
		if !r.Pass {
			return withCode(exitFindings, nil)
		}
	}
	return nil
}
