package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/verdict-dev/verdict/rbacsim"
	"github.com/verdict-dev/verdict/rbacsim/cluster"
)

func newRBACCmd(streams IOStreams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rbac",
		Short: "Answer RBAC questions offline from Role, ClusterRole and binding manifests",
		Long: "Simulates the kube-apiserver RBAC authorizer over Role, ClusterRole, RoleBinding and\n" +
			"ClusterRoleBinding manifests (files, folders, - for stdin, Lists and kubectl get -o yaml dumps).",
		Args:             cobra.NoArgs,
		RunE:             func(c *cobra.Command, _ []string) error { return c.Help() },
		PersistentPreRun: func(*cobra.Command, []string) { quietAPIServerLogs() },
	}
	cmd.AddCommand(newRBACCanICmd(streams), newRBACWhoCanCmd(streams), newRBACCheckCmd(streams), newRBACReplayCmd(streams))
	cmd.AddCommand(newRBACDiffCmd(streams), newRBACEscalationsCmd(streams))
	return cmd
}

// rbacInputs are the flags every rbac command takes to build its model.
type rbacInputs struct {
	Filenames    []string
	WithDefaults bool
	Kubeconfig   string
}

func (in *rbacInputs) addFlags(cmd *cobra.Command) {
	cmd.Flags().StringArrayVarP(&in.Filenames, "filename", "f", nil, "RBAC manifests: a file, a folder (recursively *.yaml, *.yml, *.json) or - for stdin; repeatable")
	cmd.Flags().BoolVar(&in.WithDefaults, "with-defaults", false, "also load the default ClusterRoles and bindings of a new cluster of the current Kubernetes release")
	cmd.Flags().StringVar(&in.Kubeconfig, "kubeconfig", "", "read the RBAC objects (and CRDs, for type names) of the cluster of this kubeconfig's current context, instead of or as well as -f")
}

func (in *rbacInputs) validate() error {
	if len(in.Filenames) == 0 && !in.WithDefaults && in.Kubeconfig == "" {
		return errors.New("no RBAC manifests: give -f FILE|DIR|- (or --with-defaults, or --kubeconfig F to read a cluster's)")
	}
	return nil
}

// load reads the inputs into a model, printing notes (skipped documents and the like) to errOut.
func (in *rbacInputs) load(streams IOStreams) (*rbacsim.Model, error) {
	objs := &rbacsim.Objects{Sources: map[any]rbacsim.Source{}}
	if in.WithDefaults {
		defaults, err := rbacsim.DefaultObjects()
		if err != nil {
			return nil, err
		}
		objs.Append(defaults)
	}
	if in.Kubeconfig != "" {
		live, err := in.readCluster()
		if err != nil {
			return nil, err
		}
		objs.Append(live)
	}
	read, err := rbacsim.ReadPaths(in.Filenames, streams.In)
	if err != nil {
		return nil, err
	}
	objs.Append(read)
	model := rbacsim.NewModel(objs)
	for _, n := range model.Notes() {
		fmt.Fprintln(streams.ErrOut, "note:", n)
	}
	return model, nil
}

// readCluster lists the RBAC objects of the kubeconfig's current context.
func (in *rbacInputs) readCluster() (*rbacsim.Objects, error) {
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(
		&clientcmd.ClientConfigLoadingRules{ExplicitPath: in.Kubeconfig}, &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("--kubeconfig %s: %w", in.Kubeconfig, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return cluster.Read(ctx, cfg)
}

func rbacWarn(streams IOStreams, msg string) {
	fmt.Fprintln(streams.ErrOut, "Warning:", msg)
}

// resourceArg is a resolved TYPE[/NAME] argument.
type resourceArg struct {
	group, resource, name string
	info                  *rbacsim.ResourceInfo
}

func resolveResourceArg(model *rbacsim.Model, arg string, streams IOStreams) resourceArg {
	typ, name, _ := strings.Cut(arg, "/")
	res := model.Resolver().Resolve(typ)
	if res.Warning != "" {
		rbacWarn(streams, res.Warning)
	}
	return resourceArg{group: res.Group, resource: res.Resource, name: name, info: res.Info}
}

// --- can-i ---

type canIOptions struct {
	rbacInputs
	Verb           string
	TypeArg        string
	NonResourceURL string
	Subresource    string
	Namespace      string
	AllNamespaces  bool
	As             string
	AsGroups       []string
	List           bool
	Explain        bool
	Request        string // --request: one raw API request instead of VERB and TYPE
	Output         string
	Quiet          bool
	NoHeaders      bool
	streams        IOStreams
	request        authorizer.AttributesRecord // Request, parsed
}

func newRBACCanICmd(streams IOStreams) *cobra.Command {
	o := &canIOptions{streams: streams}
	cmd := &cobra.Command{
		Use:   "can-i VERB (TYPE[/NAME] | NONRESOURCEURL) --as USER -f FILE|DIR|- ...",
		Short: "Say whether a user may do something: yes (exit 0) or no (exit 1)",
		Example: `  verdict rbac can-i list pods -n team-a --as system:serviceaccount:team-a:ci -f rbac/
  verdict rbac can-i get deployments.apps/web --subresource scale -n team-a --as alice -f rbac.yaml
  verdict rbac can-i get /healthz --as alice --with-defaults -f rbac.yaml
  verdict rbac can-i create pods -n team-a --as system:serviceaccount:team-a:ci --kubeconfig ~/.kube/config
  verdict rbac can-i --list -n team-a --as alice --as-group dev -f rbac/
  verdict rbac can-i --request 'GET /apis/apps/v1/namespaces/team-a/deployments?watch=1' --as alice -o json -f rbac/`,
		RunE: func(c *cobra.Command, args []string) error {
			if err := o.Complete(c, args); err != nil {
				return withCode(exitBadInput, err)
			}
			if err := o.Validate(); err != nil {
				return withCode(exitBadInput, err)
			}
			return o.Run(c.Context())
		},
	}
	o.addFlags(cmd)
	f := cmd.Flags()
	f.StringVar(&o.Subresource, "subresource", "", "subresource, such as log for pods or scale for deployments")
	f.StringVarP(&o.Namespace, "namespace", "n", "", "namespace of the request (default \"default\")")
	f.BoolVarP(&o.AllNamespaces, "all-namespaces", "A", false, "ask about all namespaces (a request with no namespace)")
	f.StringVar(&o.As, "as", "", "user to ask for, as kubectl --as (system:serviceaccount:NS:NAME for a service account)")
	f.StringArrayVar(&o.AsGroups, "as-group", nil, "group of the user, as kubectl --as-group; repeatable")
	f.BoolVar(&o.List, "list", false, "list the user's rules in the namespace, as kubectl auth can-i --list")
	f.BoolVar(&o.Explain, "explain", false, "say which bindings and rules grant the request, or which come closest")
	o.addOutputFlags(f)
	return cmd
}

func (o *canIOptions) Complete(_ *cobra.Command, args []string) error {
	if o.Quiet && !o.List {
		o.streams.Out = io.Discard
	}
	if o.Request != "" {
		return o.completeRequest(args)
	}
	if o.List {
		if len(args) != 0 {
			return errors.New("--list takes no arguments")
		}
	} else {
		if len(args) != 2 {
			return errors.New("expected two arguments: VERB TYPE[/NAME] or VERB NONRESOURCEURL")
		}
		o.Verb = args[0]
		if strings.HasPrefix(args[1], "/") {
			o.NonResourceURL = args[1]
		} else {
			o.TypeArg = args[1]
		}
	}
	if o.Namespace == "" && !o.AllNamespaces {
		o.Namespace = "default"
	}
	return nil
}

func (o *canIOptions) Validate() error {
	if err := o.rbacInputs.validate(); err != nil {
		return err
	}
	if o.AllNamespaces && o.Namespace != "default" && o.Namespace != "" {
		return errors.New("-n and -A cannot be used together")
	}
	if o.As == "" {
		if len(o.AsGroups) > 0 {
			return errors.New("--as-group needs --as: groups cannot be impersonated without a user")
		}
		return errors.New("--as USER is required: offline there is no current user")
	}
	if err := o.validateOutputFlags(); err != nil {
		return err
	}
	if o.Request != "" {
		return nil
	}
	if o.List {
		if o.AllNamespaces || o.Subresource != "" || o.Explain {
			return errors.New("--list cannot be used with -A, --subresource or --explain")
		}
		return nil
	}
	if o.NonResourceURL != "" && o.Subresource != "" {
		return errors.New("--subresource cannot be used with a non-resource URL")
	}
	if o.Verb == "" {
		return errors.New("VERB cannot be empty")
	}
	return nil
}

func (o *canIOptions) Run(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	u, err := rbacsim.Impersonate(o.As, o.AsGroups)
	if err != nil {
		return withCode(exitBadInput, err)
	}
	model, err := o.load(o.streams)
	if err != nil {
		return withCode(exitBadInput, err)
	}
	ns := o.Namespace
	if o.AllNamespaces {
		ns = ""
	}
	if o.List {
		review, err := model.RulesReview(ctx, u, ns)
		if err != nil {
			return withCode(exitBadInput, err)
		}
		if ok, err := model.RulesReviewAllowed(ctx, u); err == nil && !ok {
			rbacWarn(o.streams, fmt.Sprintf("kubectl would be refused: User %q cannot create resource \"selfsubjectrulesreviews\" in API group \"authorization.k8s.io\" at the cluster scope", u.GetName()))
		}
		if e := review.Status.EvaluationError; e != "" {
			fmt.Fprintln(o.streams.ErrOut, "note: the rules review's evaluationError (kubectl does not show it):", e)
		}
		return rbacsim.WriteAccessList(o.streams.Out, o.streams.ErrOut, review.Status, o.NoHeaders)
	}
	if o.Request != "" {
		return o.runRequest(ctx, model, u)
	}

	attrs := authorizer.AttributesRecord{User: u, Verb: o.Verb}
	if o.NonResourceURL != "" {
		attrs.Path = o.NonResourceURL
		if !rbacsim.KnownNonResourceVerbs[o.Verb] {
			rbacWarn(o.streams, fmt.Sprintf("verb '%s' is not a known verb", o.Verb))
		}
	} else {
		r := resolveResourceArg(model, o.TypeArg, o.streams)
		attrs.ResourceRequest = true
		attrs.APIGroup, attrs.Resource, attrs.Name = r.group, r.resource, r.name
		attrs.Subresource = o.Subresource
		attrs.Namespace = ns
		if ns != "" && r.info != nil && !r.info.Namespaced {
			if r.group == "" {
				rbacWarn(o.streams, fmt.Sprintf("resource '%s' is not namespace scoped", r.resource))
			} else {
				rbacWarn(o.streams, fmt.Sprintf("resource '%s' is not namespace scoped in group '%s'", r.resource, r.group))
			}
		}
		if !rbacsim.KnownResourceVerbs[o.Verb] {
			rbacWarn(o.streams, fmt.Sprintf("verb '%s' is not a known verb", o.Verb))
		}
	}
	return o.answer(ctx, model, attrs)
}

// --- who-can ---

type whoCanOptions struct {
	rbacInputs
	Verb          string
	TypeArg       string
	Subresource   string
	Namespace     string
	AllNamespaces bool
	Output        string
	streams       IOStreams
}

func newRBACWhoCanCmd(streams IOStreams) *cobra.Command {
	o := &whoCanOptions{streams: streams}
	cmd := &cobra.Command{
		Use:   "who-can VERB TYPE[/NAME] -f FILE|DIR|- ...",
		Short: "List every subject whose bindings grant a request",
		Example: `  verdict rbac who-can get secrets -n team-a -f rbac/
  verdict rbac who-can create pods --subresource exec -A -o json -f dump.yaml`,
		RunE: func(c *cobra.Command, args []string) error {
			if err := o.Complete(args); err != nil {
				return withCode(exitBadInput, err)
			}
			if err := o.Validate(); err != nil {
				return withCode(exitBadInput, err)
			}
			return o.Run()
		},
	}
	o.addFlags(cmd)
	f := cmd.Flags()
	f.StringVar(&o.Subresource, "subresource", "", "subresource, such as log for pods or scale for deployments")
	f.StringVarP(&o.Namespace, "namespace", "n", "", "namespace of the request (default \"default\")")
	f.BoolVarP(&o.AllNamespaces, "all-namespaces", "A", false, "in any namespace: every RoleBinding counts, in its own namespace")
	f.StringVarP(&o.Output, "output", "o", "table", "output format: table or json")
	return cmd
}

func (o *whoCanOptions) Complete(args []string) error {
	if len(args) != 2 {
		return errors.New("expected two arguments: VERB TYPE[/NAME]")
	}
	o.Verb, o.TypeArg = args[0], args[1]
	if o.Namespace == "" && !o.AllNamespaces {
		o.Namespace = "default"
	}
	return nil
}

func (o *whoCanOptions) Validate() error {
	if err := o.rbacInputs.validate(); err != nil {
		return err
	}
	if o.AllNamespaces && o.Namespace != "default" && o.Namespace != "" {
		return errors.New("-n and -A cannot be used together")
	}
	if strings.HasPrefix(o.TypeArg, "/") {
		return errors.New("who-can takes TYPE[/NAME], not a non-resource URL")
	}
	if o.Output != "table" && o.Output != "json" {
		return fmt.Errorf("unknown output format %q: use table or json", o.Output)
	}
	return nil
}

func (o *whoCanOptions) Run() error {
	model, err := o.load(o.streams)
	if err != nil {
		return withCode(exitBadInput, err)
	}
	r := resolveResourceArg(model, o.TypeArg, o.streams)
	req := rbacsim.Request{Verb: o.Verb, Group: r.group, Resource: r.resource, Subresource: o.Subresource, Name: r.name,
		Namespace: o.Namespace, AllNamespaces: o.AllNamespaces}
	if o.AllNamespaces {
		req.Namespace = ""
	}
	grants := model.WhoCan(req)
	if o.Output == "json" {
		return rbacWriteJSON(o.streams.Out, struct {
			Subjects []rbacsim.Grant `json:"subjects"`
		}{Subjects: append([]rbacsim.Grant{}, grants...)})
	}
	tw := tabwriter.NewWriter(o.streams.Out, 6, 4, 3, ' ', 0)
	fmt.Fprintln(tw, "KIND\tNAMESPACE\tNAME\tBINDING\tROLE")
	for _, g := range grants {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", g.Kind, g.Namespace, g.Name, g.Binding, g.Role)
	}
	return tw.Flush()
}

// --- check ---

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
			if err := o.Complete(); err != nil {
				return withCode(exitBadInput, err)
			}
			if err := o.Validate(); err != nil {
				return withCode(exitBadInput, err)
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
		err = rbacWriteJSON(o.streams.Out, struct {
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

func rbacWriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
