package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/verdict-dev/verdict/internal/jsonout"
	"github.com/verdict-dev/verdict/rbacsim"
)

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
			if err := completeValidate(func() error { return o.Complete(args) }, o.Validate); err != nil {
				return err
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
	q := rbacsim.Question{Verb: o.Verb, Type: o.TypeArg, Subresource: o.Subresource, Namespace: o.Namespace, AllNamespaces: o.AllNamespaces}
	if o.AllNamespaces {
		q.Namespace = ""
	}
	grants, warnings := model.WhoCan(q)
	for _, w := range warnings {
		rbacWarn(o.streams, w)
	}
	if o.Output == "json" {
		return jsonout.Compact(o.streams.Out, struct {
			Subjects []rbacsim.Grant `json:"subjects"`
		}{Subjects: append([]rbacsim.Grant{}, grants...)})
	}
	return rbacsim.WriteWhoCanTable(o.streams.Out, grants)
}
