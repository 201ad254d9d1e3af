package main

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/verdict-dev/verdict/policies/audit"
	"github.com/verdict-dev/verdict/policies/bundle"
	"github.com/verdict-dev/verdict/policies/source"
)

type auditOptions struct {
	streams         IOStreams
	kubeconfig      string
	context         string
	policies        []string
	output          string
	coverage        bool
	apply           bool
	progress        bool
	sync            []string
	chunkSize       int64
	allowedBuiltins []string
	config          *rest.Config
	syncKinds       []schema.GroupVersionKind
}

func newAuditCmd(streams IOStreams) *cobra.Command {
	o := &auditOptions{streams: streams}
	cmd := &cobra.Command{
		Use:   "audit --kubeconfig F [-p PATH]... [-o table|json|policyreport] [--coverage] [--apply]",
		Short: "Judge the objects already in a cluster with its own policies and any -p",
		Long: `Judge the objects a cluster already holds, each as an UPDATE of itself, as Gatekeeper's audit does,
with the policies the cluster holds (ValidatingAdmissionPolicies and their bindings and params,
Gatekeeper ConstraintTemplates and constraints, read once as serve --kubeconfig reads them) and those
of -p. The objects of every kind some policy takes are listed page by page and judged as they come.
--sync names the kinds that Gatekeeper templates see in data.inventory, read once, as serve --sync.

-o json has the shape of check -o json; -o policyreport prints wgpolicyk8s.io/v1alpha2 PolicyReports
(one per namespace) and a ClusterPolicyReport, passes included, as Kyverno writes them and
policy-reporter reads them; --apply writes those to the cluster with server-side apply (field manager
verdict, name verdict-audit). --coverage adds the kinds no policy takes and the policies that judged
no object. A progress line per kind goes to standard error when it is a terminal, or with --progress.

Exit status: 0 when nothing is denied, 1 when any policy denies, 2 when the cluster cannot be read,
a policy or object cannot be judged, or nothing at all was judged.`,
		Example: `  verdict audit --kubeconfig ~/.kube/config
  verdict audit --kubeconfig ~/.kube/config -p policies/ -o json --coverage
  verdict audit --kubeconfig ~/.kube/config -o policyreport --apply`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.complete(); err != nil {
				return withCode(exitBadInput, err)
			}
			return o.run(cmd)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.kubeconfig, "kubeconfig", "", "kubeconfig file of the cluster to audit (required)")
	f.StringVar(&o.context, "context", "", "the kubeconfig context to use (default: its current context)")
	f.StringArrayVarP(&o.policies, "policies", "p", nil, "policy file or folder to judge with besides the cluster's own (repeatable)")
	f.StringVarP(&o.output, "output", "o", "table", "output format: "+strings.Join(audit.Formats, "|"))
	f.BoolVar(&o.coverage, "coverage", false, "add the kinds no policy takes and the policies that judged no object")
	f.BoolVar(&o.apply, "apply", false, "write the PolicyReports to the cluster with server-side apply")
	f.BoolVar(&o.progress, "progress", false, "print a progress line per kind on standard error even when it is not a terminal")
	f.Int64Var(&o.chunkSize, "chunk-size", audit.DefaultPageSize, "list the objects in pages of this many, as kubectl --chunk-size")
	f.StringArrayVar(&o.sync, "sync", nil, "kind whose objects Gatekeeper templates see in data.inventory, as GROUP/VERSION/KIND or v1/KIND (repeatable), as serve --sync")
	f.StringSliceVar(&o.allowedBuiltins, "allow-builtin", nil, "Rego builtins that reach outside the evaluation to allow")
	return cmd
}

func (o *auditOptions) complete() error {
	if o.kubeconfig == "" {
		return errors.New("--kubeconfig is required: the cluster to audit")
	}
	if !slices.Contains(audit.Formats, o.output) {
		return fmt.Errorf("--output %q: must be one of %s", o.output, strings.Join(audit.Formats, ", "))
	}
	if slices.Contains(o.policies, "-") {
		return errors.New("audit reads no policies from standard input")
	}
	if o.chunkSize <= 0 {
		return fmt.Errorf("--chunk-size %d: must be a positive number of objects", o.chunkSize)
	}
	if o.coverage && o.output == "policyreport" {
		return errors.New("--coverage is written with -o table or json: a PolicyReport has no place for it")
	}
	for _, s := range o.sync {
		gvk, err := source.ParseKind(s)
		if err != nil {
			return fmt.Errorf("--sync %q: %w", s, err)
		}
		o.syncKinds = append(o.syncKinds, gvk)
	}
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(
		&clientcmd.ClientConfigLoadingRules{ExplicitPath: o.kubeconfig},
		&clientcmd.ConfigOverrides{CurrentContext: o.context}).ClientConfig()
	if err != nil {
		return fmt.Errorf("--kubeconfig %s: %w", o.kubeconfig, err)
	}
	o.config = cfg
	return nil
}

func (o *auditOptions) run(cmd *cobra.Command) error {
	ctx := cmd.Context()
	where := fmt.Sprintf("the cluster of %s (%s)", o.kubeconfig, o.config.Host)
	// Without -p the set is the cluster's alone, which may be empty: that is judged below, by name.
	files := bundle.Options{Paths: o.policies, AllowedBuiltins: o.allowedBuiltins, AllowEmpty: len(o.policies) == 0}
	extra, err := source.ReadCluster(ctx, source.ClusterOptions{Config: o.config, Sync: o.syncKinds}, files)
	if err != nil {
		return withCode(exitBadInput, fmt.Errorf("reading the policies of %s: %w", where, err))
	}
	b, skipped, err := source.Compile(ctx, files, extra, logr.Discard())
	if err != nil {
		return withCode(exitBadInput, err)
	}
	for _, s := range skipped {
		fmt.Fprintln(o.streams.ErrOut, "Warning: left out, it does not compile:", s)
	}
	if b.Policies == 0 {
		return withCode(exitBadInput, fmt.Errorf("no policies: %s holds no ValidatingAdmissionPolicy or Gatekeeper constraint verdict reads, and no -p was given: nothing would be judged", where))
	}
	disc, err := discovery.NewDiscoveryClientForConfig(o.config)
	if err != nil {
		return withCode(exitBadInput, fmt.Errorf("%s: %w", where, err))
	}
	client, err := dynamic.NewForConfig(o.config)
	if err != nil {
		return withCode(exitBadInput, fmt.Errorf("%s: %w", where, err))
	}
	opts := audit.Options{Policies: b, Discovery: disc, Client: client, PageSize: o.chunkSize}
	if o.progress || isTerminal(o.streams.ErrOut) {
		opts.Progress = o.streams.ErrOut
	}
	report, err := audit.Run(ctx, opts)
	if err != nil {
		return withCode(exitBadInput, fmt.Errorf("auditing %s: %w", where, err))
	}
	return o.finish(cmd, report, client, where)
}

// finish writes the report, applies it, and sets the exit status.
func (o *auditOptions) finish(cmd *cobra.Command, report *audit.Report, client dynamic.Interface, where string) error {
	note(o.streams, report.Notes)
	if err := report.Write(o.streams.Out, o.output, o.coverage); err != nil {
		return withCode(exitBadInput, err)
	}
	if o.apply {
		written, err := audit.Apply(cmd.Context(), client, report.PolicyReports())
		if err != nil {
			return withCode(exitBadInput, fmt.Errorf("%s: %w", where, err))
		}
		fmt.Fprintf(o.streams.ErrOut, "applied %d reports: %s\n", len(written), strings.Join(written, ", "))
	}
	if report.Failed() {
		for _, e := range report.Check().Errors {
			fmt.Fprintln(o.streams.ErrOut, "error:", e.String())
		}
		return withCode(exitBadInput, nil)
	}
	if report.Objects == 0 {
		return withCode(exitBadInput, fmt.Errorf("no object was judged: %s holds no object of the kinds the policies take", where))
	}
	if report.Violations() {
		return withCode(exitFindings, nil)
	}
	return nil
}

// isTerminal reports whether w is a terminal, where a progress line helps rather than clutters.
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}
