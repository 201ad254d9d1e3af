package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/verdict-dev/verdict/internal/jsonout"
	"github.com/verdict-dev/verdict/rbacsim"
)

type rbacReplayOptions struct {
	rbacInputs
	AuditLog string
	All      bool
	Output   string
	streams  IOStreams
}

func newRBACReplayCmd(streams IOStreams) *cobra.Command {
	o := &rbacReplayOptions{streams: streams}
	cmd := &cobra.Command{
		Use:   "replay -f FILE|DIR|- ... --audit-log FILE|-",
		Short: "Decide the requests of an API server audit log again; exit 1 if one that was allowed would now be refused",
		Long: "Reads an audit log (audit.k8s.io/v1 Events, one JSON object a line, as kube-apiserver --audit-log-path\n" +
			"writes them), decides every recorded request again with the given RBAC objects as the event's user\n" +
			"(the impersonated one where the event records one) and groups, and reports the requests that would\n" +
			"now be refused (with --all, also those that would now be allowed), each with the nearest rule.",
		Example: `  verdict rbac replay -f rbac/ --with-defaults --audit-log /var/log/kubernetes/audit.log
  kubectl logs -n kube-system kube-apiserver-cp1 | verdict rbac replay -f new-rbac.yaml --audit-log - -o json`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := o.Validate(); err != nil {
				return withCode(exitBadInput, err)
			}
			return o.Run(c.Context())
		},
	}
	o.addFlags(cmd)
	f := cmd.Flags()
	f.StringVar(&o.AuditLog, "audit-log", "", "the audit log: a file, or - for stdin")
	f.BoolVar(&o.All, "all", false, "also report the requests that were refused and would now be allowed")
	f.StringVarP(&o.Output, "output", "o", "table", "output format: table or json")
	return cmd
}

func (o *rbacReplayOptions) Validate() error {
	if err := o.rbacInputs.validate(); err != nil {
		return err
	}
	if o.AuditLog == "" {
		return errors.New("--audit-log FILE|- is required")
	}
	for _, f := range o.Filenames {
		if f == "-" && o.AuditLog == "-" {
			return errors.New("-f - and --audit-log - cannot both read stdin")
		}
	}
	if o.Output != "table" && o.Output != "json" {
		return fmt.Errorf("unknown output format %q: use table or json", o.Output)
	}
	return nil
}

func (o *rbacReplayOptions) Run(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	model, err := o.load(o.streams)
	if err != nil {
		return withCode(exitBadInput, err)
	}
	var log io.Reader = o.streams.In
	if o.AuditLog != "-" {
		f, err := os.Open(o.AuditLog)
		if err != nil {
			return withCode(exitBadInput, err)
		}
		defer f.Close()
		log = f
	}
	rep, err := model.Replay(ctx, o.AuditLog, log, o.All)
	if err != nil {
		return withCode(exitBadInput, err)
	}
	for _, n := range rep.SkipNotes() {
		fmt.Fprintln(o.streams.ErrOut, "note:", n)
	}
	if o.Output == "json" {
		err = jsonout.Compact(o.streams.Out, rep)
	} else {
		err = rbacsim.WriteReplayTable(o.streams.Out, rep)
	}
	if err != nil {
		return err
	}
	if rep.Summary.Refused > 0 {
		return withCode(exitFindings, nil)
	}
	return nil
}
