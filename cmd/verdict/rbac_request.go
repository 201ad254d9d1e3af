package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/go-logr/logr"
	"github.com/spf13/pflag"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/klog/v2"

	"github.com/verdict-dev/verdict/rbacsim"
)

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
		if err := rbacWriteJSON(o.streams.Out, ans); err != nil {
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
