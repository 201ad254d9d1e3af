package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/verdict-dev/verdict/manifest"
	"github.com/verdict-dev/verdict/simulate"
)

type simulateOptions struct {
	streams IOStreams
	paths   simulate.Paths
	output  string
	request string
	body    string
}

func newSimulateCmd(streams IOStreams) *cobra.Command {
	o := &simulateOptions{streams: streams}
	cmd := &cobra.Command{
		Use:   "simulate -f FILE|DIR|- ... --as USER [--rbac PATH]... [-p PATH]... [--existing PATH]...",
		Short: "What would the API server do with this kubectl apply, by this user?",
		Long: `Simulate kubectl apply of the manifests by a user, with no cluster: the requests kubectl sends for each
object, their authorization with the --rbac objects, the built-in admission plugins of a default
kube-apiserver, the mutating policies, the RBAC escalation check and the validating policies (-p), in the
API server's order. Each object either is created or configured (dry run), or is refused at a stage, with
the error kubectl would print. Objects created earlier in the apply (Namespaces, RBAC objects) take effect
for later ones.

With --request, simulate one raw API request instead ('METHOD PATH[?QUERY]' as kubectl -v=8 prints it), and
with --body the object a POST or PUT sends.

Exit status: 0 when every object would be accepted, 1 when one would be refused, 2 on bad input.`,
		Example: `  verdict simulate -f deploy.yaml --as alice --rbac rbac/ --with-defaults --existing namespaces.yaml
  verdict simulate -f manifests/ --as system:serviceaccount:ci:deployer --rbac rbac/ -p policies/ -o json
  verdict simulate --request 'POST /api/v1/namespaces/shop/configmaps' --body cm.yaml --as alice --rbac rbac/`,
		Args: cobra.NoArgs,
		PreRun: func(*cobra.Command, []string) {
			quietAPIServerLogs()
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.validate(); err != nil {
				return withCode(exitBadInput, err)
			}
			if o.request != "" {
				return o.runRequest(cmd)
			}
			return o.run(cmd)
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&o.paths.Files, "filename", "f", nil, "manifests to apply: a file, a folder (recursively) or - for stdin; repeatable")
	f.StringVar(&o.paths.As, "as", "", "the user who applies, as kubectl --as (impersonation rules of the API server)")
	f.StringArrayVar(&o.paths.AsGroups, "as-group", nil, "a group of the user, as kubectl --as-group; repeatable")
	f.StringArrayVar(&o.paths.RBAC, "rbac", nil, "the cluster's RBAC manifests (Roles, ClusterRoles and bindings); repeatable")
	f.StringArrayVarP(&o.paths.Policies, "policies", "p", nil, "the cluster's admission policies (VAPs, MAPs, Gatekeeper, Rego); repeatable; none when not given")
	f.StringArrayVar(&o.paths.Existing, "existing", nil, "the cluster's other objects before the apply (Namespaces, objects the apply patches); repeatable")
	f.BoolVar(&o.paths.ServerSide, "server-side", false, "apply as kubectl apply --server-side: one apply PATCH per object")
	f.BoolVar(&o.paths.WithDefaults, "with-defaults", false, "also load the default ClusterRoles and bindings of a new cluster of the current Kubernetes release")
	f.StringVarP(&o.output, "output", "o", "table", "output format: "+strings.Join(simulate.Formats, "|"))
	f.StringVar(&o.request, "request", "", "one raw API request, 'METHOD PATH[?QUERY]', instead of -f")
	f.StringVar(&o.body, "body", "", "with --request, the file of the object the request sends")
	return cmd
}

func (o *simulateOptions) validate() error {
	if !contains(simulate.Formats, o.output) {
		return fmt.Errorf("--output %q: must be one of %s", o.output, strings.Join(simulate.Formats, ", "))
	}
	if o.request == "" && o.body != "" {
		return errors.New("--body needs --request")
	}
	if o.request != "" && len(o.paths.Files) > 0 {
		return errors.New("--request and -f cannot be used together: --request simulates one request, -f an apply")
	}
	if o.request != "" {
		o.paths.Request = true
		if o.body != "" {
			o.paths.Files = []string{o.body}
		}
	}
	stdin := 0
	for _, list := range [][]string{o.paths.Files, o.paths.RBAC, o.paths.Policies, o.paths.Existing} {
		if contains(list, "-") {
			stdin++
		}
	}
	if stdin > 1 {
		return errors.New("standard input can be read only once: - names it in more than one of -f, --rbac, -p and --existing")
	}
	return nil
}

func (o *simulateOptions) run(cmd *cobra.Command) error {
	o.paths.Stdin = o.streams.In
	in, err := simulate.Read(cmd.Context(), o.paths)
	if err != nil {
		return withCode(exitBadInput, err)
	}
	note(o.streams, in.Notes)
	report, err := simulate.Run(cmd.Context(), in.Documents, in.Options)
	if report != nil {
		note(o.streams, report.Notes)
		if werr := report.Write(o.streams.Out, o.output); werr != nil {
			return withCode(exitBadInput, werr)
		}
	}
	if err != nil {
		return withCode(exitBadInput, err)
	}
	if report.Refused() {
		return withCode(exitFindings, nil)
	}
	return nil
}

// runRequest simulates the one raw request of --request.
func (o *simulateOptions) runRequest(cmd *cobra.Command) error {
	o.paths.Stdin = o.streams.In
	in, err := simulate.Read(cmd.Context(), o.paths)
	if err != nil {
		return withCode(exitBadInput, err)
	}
	note(o.streams, in.Notes)
	var body *manifest.Document
	if len(in.Documents) == 1 {
		body = &in.Documents[0]
	}
	res, err := simulate.RunRequest(cmd.Context(), o.request, body, in.Options)
	if err != nil {
		return withCode(exitBadInput, err)
	}
	report := &simulate.Report{Results: []simulate.Result{*res}}
	if err := report.Write(o.streams.Out, o.output); err != nil {
		return withCode(exitBadInput, err)
	}
	if res.Refused() {
		return withCode(exitFindings, nil)
	}
	return nil
}
