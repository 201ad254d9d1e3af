package main

import (
	"fmt"

	"github.com/spf13/pflag"

	"github.com/verdict-dev/verdict/policies"
)

// manifestFlags are the flags that check and mutate share: which policies judge which manifests,
// under which operation, in which namespace.
type manifestFlags struct {
	policies  []string
	operation string
	namespace string
	allowed   []string

	inputs []string
	op     policies.Operation
}

func (m *manifestFlags) add(f *pflag.FlagSet, operations string) {
	f.StringArrayVarP(&m.policies, "policies", "p", nil, "policy file or folder (repeatable); default: the embedded policy set")
	f.StringVar(&m.operation, "operation", "CREATE", "admission operation to judge under: "+operations)
	f.StringVarP(&m.namespace, "namespace", "n", "", "namespace of namespaced objects that name none (default \"default\")")
	f.StringSliceVar(&m.allowed, "allow-builtin", nil, "Rego builtins that reach outside the evaluation to allow (http.send, net.lookup_ip_addr, opa.runtime)")
}

// complete takes the manifests from the arguments and checks the operation against those allowed.
func (m *manifestFlags) complete(args []string, allowed ...policies.Operation) error {
	if len(args) == 0 {
		return fmt.Errorf("no manifests given: name files, folders, or - for standard input")
	}
	m.inputs = args
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
