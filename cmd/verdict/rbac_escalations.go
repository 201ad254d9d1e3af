package main

import (
	"errors"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"k8s.io/apiserver/pkg/authentication/user"

	"github.com/verdict-dev/verdict/internal/gctune"
	"github.com/verdict-dev/verdict/internal/jsonout"
	"github.com/verdict-dev/verdict/rbacsim"
)

type rbacEscalationsOptions struct {
	Filenames    []string
	WithDefaults bool
	As           string
	AsGroups     []string
	Depth        int
	Output       string
	streams      IOStreams
}

func newRBACEscalationsCmd(streams IOStreams) *cobra.Command {
	o := &rbacEscalationsOptions{streams: streams}
	cmd := &cobra.Command{
		Use:   "escalations -f FILE|DIR|- ... [--as USER]",
		Short: "List every way a subject's permissions reach further permissions, one hop at a time",
		Long: "For each subject named in a binding (or the user of --as), lists the requests that reach other\n" +
			"service accounts, users, groups or roles: creating pods or workloads, service-account tokens, reading\n" +
			"token Secrets, bind and escalate, impersonation, nodes/proxy and pods/exec. Pods and token Secrets\n" +
			"among the inputs name the service accounts they hold.",
		Example: `  verdict rbac escalations -f rbac/
  verdict rbac escalations -f rbac/ -f pods.yaml --as system:serviceaccount:ci:deployer --depth 3 -o json`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := o.Validate(); err != nil {
				return withCode(exitBadInput, err)
			}
			return o.Run()
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&o.Filenames, "filename", "f", nil, "RBAC manifests (and Pods, token Secrets): a file, a folder or - for stdin; repeatable")
	f.BoolVar(&o.WithDefaults, "with-defaults", false, "also load the default ClusterRoles and bindings of a new cluster")
	f.StringVar(&o.As, "as", "", "only this user, as kubectl --as (system:serviceaccount:NS:NAME for a service account)")
	f.StringArrayVar(&o.AsGroups, "as-group", nil, "group of the --as user; repeatable")
	f.IntVar(&o.Depth, "depth", 1, "follow the service accounts, users and groups reached, up to this many hops")
	f.StringVarP(&o.Output, "output", "o", "table", "output format: table or json")
	return cmd
}

func (o *rbacEscalationsOptions) Validate() error {
	if len(o.Filenames) == 0 && !o.WithDefaults {
		return errors.New("no RBAC manifests: give -f FILE|DIR|- (or --with-defaults)")
	}
	if o.Output != "table" && o.Output != "json" {
		return fmt.Errorf("unknown output format %q: use table or json", o.Output)
	}
	if o.Depth < 1 {
		return errors.New("--depth must be at least 1")
	}
	if o.As == "" && len(o.AsGroups) > 0 {
		return errors.New("--as-group needs --as")
	}
	return nil
}

// load reads the model and the workloads whose service accounts' tokens a user may reach.
func (o *rbacEscalationsOptions) load() (*rbacsim.Model, *rbacsim.Workloads, error) {
	defer gctune.Pause()() // the model keeps what loading allocates (see gctune.Pause)
	objs := &rbacsim.Objects{Sources: map[any]rbacsim.Source{}}
	if o.WithDefaults {
		defaults, err := rbacsim.DefaultObjects()
		if err != nil {
			return nil, nil, err
		}
		objs.Append(defaults)
	}
	read, workloads, err := rbacsim.ReadWithWorkloads(o.Filenames, o.streams.In)
	if err != nil {
		return nil, nil, err
	}
	objs.Append(read)
	return rbacsim.NewModel(objs), workloads, nil
}

func (o *rbacEscalationsOptions) Run() error {
	model, workloads, err := o.load()
	if err != nil {
		return withCode(exitBadInput, err)
	}
	for _, n := range model.Notes() {
		fmt.Fprintln(o.streams.ErrOut, "note:", n)
	}
	var hops []rbacsim.Hop
	if o.As != "" {
		u, err := rbacsim.Impersonate(o.As, o.AsGroups)
		if err != nil {
			return withCode(exitBadInput, err)
		}
		hops = model.Escalations(rbacsim.SubjectOf(o.As), u, workloads, o.Depth)
	} else {
		for _, s := range model.EscalationSubjects() {
			var u user.Info = s.User()
			hops = append(hops, model.Escalations(s, u, workloads, o.Depth)...)
		}
	}
	if o.Output == "json" {
		return jsonout.Compact(o.streams.Out, struct {
			Hops []rbacsim.Hop `json:"hops"`
		}{Hops: append([]rbacsim.Hop{}, hops...)})
	}
	if len(hops) == 0 {
		_, err := fmt.Fprintln(o.streams.Out, "no escalation hops")
		return err
	}
	tw := tabwriter.NewWriter(o.streams.Out, 6, 4, 3, ' ', 0)
	fmt.Fprintln(tw, "SUBJECT\tREQUEST\tREACHES\tVIA")
	for _, h := range hops {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", h.Subject, h.Request, h.Reaches, h.Via)
	}
	return tw.Flush()
}
