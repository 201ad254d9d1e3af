package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/klog/v2"

	"github.com/verdict-dev/verdict/internal/jsonout"
	"github.com/verdict-dev/verdict/rbacsim"
)

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
			if err := completeValidate(func() error { return o.Complete(c, args) }, o.Validate); err != nil {
				return err
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

	attrs, warnings := model.Attributes(u, rbacsim.Question{Verb: o.Verb, Type: o.TypeArg, NonResourceURL: o.NonResourceURL, Subresource: o.Subresource, Namespace: ns})
	for _, w := range warnings {
		rbacWarn(o.streams, w)
	}
	return o.answer(ctx, model, attrs)
}

// The can-i flags of raw requests and output: --request, -o json, -q and --no-headers.

func (o *canIOptions) addOutputFlags(f *pflag.FlagSet) {
	f.StringVar(&o.Request, "request", "", "one raw API request, 'METHOD PATH[?QUERY]' as kubectl -v=8 prints it, instead of VERB and TYPE: it is turned into the attributes the API server authorizes")
	f.StringVarP(&o.Output, "output", "o", "", "output format: json (the request's attributes, the answer and its reason), or yes/no when unset")
	f.BoolVarP(&o.Quiet, "quiet", "q", false, "print nothing, only exit with the answer (0 yes, 1 no), as kubectl auth can-i -q")
	f.BoolVar(&o.NoHeaders, "no-headers", false, "with --list, print the rules without the header line, as kubectl auth can-i --no-headers")
}

// completeRequest is Complete for --request: no arguments, and the request line read as the API
// server reads it.
func (o *canIOptions) completeRequest(args []string) error {
	if len(args) != 0 {
		return errors.New("--request takes no arguments: the request line says what it asks")
	}
	attrs, err := rbacsim.ParseRequest(o.Request)
	if err != nil {
		return err
	}
	o.request = attrs
	return nil
}

// validateOutputFlags checks the flags of this file against the others, as kubectl auth can-i does
// for -q and --no-headers.
func (o *canIOptions) validateOutputFlags() error {
	if o.Output != "" && o.Output != "json" {
		return fmt.Errorf("unknown output format %q: use json, or no -o for yes or no", o.Output)
	}
	if o.Request != "" {
		switch {
		case o.List:
			return errors.New("--request cannot be used with --list")
		case o.Namespace != "" || o.AllNamespaces:
			return errors.New("--request takes the namespace from its path: -n and -A cannot be used with it")
		case o.Subresource != "":
			return errors.New("--request takes the subresource from its path: --subresource cannot be used with it")
		}
	}
	if o.List {
		if o.Quiet {
			return errors.New("--list cannot be used with -q")
		}
		if o.Output != "" {
			return errors.New("--list cannot be used with -o")
		}
	}
	if o.NoHeaders && !o.List {
		return errors.New("--no-headers cannot be set without --list specified")
	}
	if o.Output == "json" && o.Explain {
		return errors.New("--explain cannot be used with -o json")
	}
	return nil
}

// runRequest answers the --request question, printing its attributes first.
func (o *canIOptions) runRequest(ctx context.Context, model *rbacsim.Model, u user.Info) error {
	attrs := o.request
	attrs.User = u
	if o.Output == "" {
		fmt.Fprintln(o.streams.Out, rbacsim.Describe(attrs))
	}
	return o.answer(ctx, model, attrs)
}

// answer decides the request and prints yes or no (and the explanation), or the JSON answer; it
// returns the exit code of no, as kubectl auth can-i exits.
func (o *canIOptions) answer(ctx context.Context, model *rbacsim.Model, attrs authorizer.AttributesRecord) error {
	ans, err := model.Decide(ctx, attrs)
	if err != nil {
		return withCode(exitBadInput, err)
	}
	if o.Output == "json" {
		if err := jsonout.Compact(o.streams.Out, ans); err != nil {
			return err
		}
	} else {
		fmt.Fprintln(o.streams.Out, yesNo(ans.Allowed))
		if o.Explain {
			if err := model.Explain(attrs).Write(o.streams.Out); err != nil {
				return err
			}
		}
	}
	if !ans.Allowed {
		return withCode(exitFindings, nil)
	}
	return nil
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// quietAPIServerLogs silences klog: the API server's request parsing logs an error for a query it
// cannot decode (limit=x) and goes on as the server does, and what verdict made of the request is
// printed with the answer.
func quietAPIServerLogs() { klog.SetLogger(logr.Discard()) }
