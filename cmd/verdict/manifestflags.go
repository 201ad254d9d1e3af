package main

import (
	"fmt"
	"io"

	"github.com/spf13/pflag"

	"github.com/verdict-dev/verdict/policies"
	"github.com/verdict-dev/verdict/policies/bundle"
	"github.com/verdict-dev/verdict/policies/job"
	"github.com/verdict-dev/verdict/policies/library"
)

// manifestFlags are the flags that check and mutate share: which policies judge which manifests,
// under which operation, in which namespace.
type manifestFlags struct {
	policies  []string
	operation string
	namespace string
	allowed   []string
	asWritten bool
	strict    bool

	inputs []string
	op     policies.Operation
}

func (m *manifestFlags) add(f *pflag.FlagSet, operations string) {
	f.StringArrayVarP(&m.policies, "policies", "p", nil, "policy file or folder (repeatable); default: the embedded policy set")
	f.StringVar(&m.operation, "operation", "CREATE", "admission operation to judge under: "+operations)
	f.StringVarP(&m.namespace, "namespace", "n", "", "namespace of namespaced objects that name none (default \"default\")")
	f.BoolVar(&m.asWritten, "as-written", false, "judge every object exactly as written, as gator and conftest do: no defaults, no type round trip, no namespace filled in")
	f.BoolVar(&m.strict, "strict", false, "refuse kinds that are neither built in nor defined by a CRD among the inputs, as kubectl apply does")
	f.StringSliceVar(&m.allowed, "allow-builtin", nil, "Rego builtins that reach outside the evaluation to allow (http.send, net.lookup_ip_addr, opa.runtime)")
}

// options are the job's inputs: the flags, the embedded library when no -p is given, stdin.
func (m *manifestFlags) options(stdin io.Reader) job.Options {
	return job.Options{
		Policies:  bundle.Options{Paths: m.policies, Library: library.FS, AllowedBuiltins: m.allowed},
		Inputs:    m.inputs,
		Stdin:     stdin,
		Operation: m.op,
		Namespace: m.namespace,
		AsWritten: m.asWritten,
		Strict:    m.strict,
	}
}

// complete takes the manifests from the arguments and checks the operation against those allowed.
func (m *manifestFlags) complete(args []string, allowed ...policies.Operation) error {
	if len(args) == 0 {
		return fmt.Errorf("no manifests given: name files, folders, or - for standard input")
	}
	m.inputs = args
	if contains(m.policies, "-") && contains(args, "-") {
		return fmt.Errorf("standard input can be read only once: -p - and the manifest - both name it")
	}
	op, ok := policies.ParseOperation(m.operation)
	for _, a := range allowed {
		if ok && op == a {
			m.op = op
			return nil
		}
	}
	names := make([]string, len(allowed))
	for i, a := range allowed {
		names[i] = string(a)
	}
	return fmt.Errorf("--operation %q: must be %s", m.operation, orList(names))
}

func orList(s []string) string {
	switch len(s) {
	case 0:
		return ""
	case 1:
		return s[0]
	}
	out := s[0]
	for _, v := range s[1 : len(s)-1] {
		out += ", " + v
	}
	return out + " or " + s[len(s)-1]
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
