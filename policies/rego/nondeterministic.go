package rego

import (
	"fmt"
	"sort"

	"github.com/open-policy-agent/opa/v1/ast"
)

// nondeterministic warns of the calls of builtins that OPA marks non-deterministic (time.now_ns,
// rand.intn, uuid.rfc4122, io.jwt.encode_sign...): such a policy may judge the same object
// differently in CI and in the cluster, or from one replica to the next, and its tests pass or fail
// with the clock. They stay allowed (a policy on certificate expiry needs the time); verdict verify
// --now pins the clock. Builtins refused as unsafe are reported as errors, not here.
func nondeterministic(modules map[string]*ast.Module, caps *ast.Capabilities) []string {
	nd := map[string]bool{}
	for _, b := range caps.Builtins {
		if b.Nondeterministic {
			nd[b.Name] = true
		}
	}
	type call struct {
		where    *ast.Location
		rule, op string
	}
	var calls []call
	for _, mod := range modules {
		eachCall(mod, func(rule, op string, where *ast.Location) {
			if nd[op] {
				calls = append(calls, call{where, rule, op})
			}
		})
	}
	sort.SliceStable(calls, func(i, j int) bool {
		a, b := calls[i].where, calls[j].where
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Row != b.Row {
			return a.Row < b.Row
		}
		return a.Col < b.Col
	})
	var out []string
	for _, c := range calls {
		out = append(out, fmt.Sprintf("%s:%d:%d: rule %s calls %s, which is not deterministic: the same input may be judged differently from one evaluation to the next",
			c.where.File, c.where.Row, c.where.Col, c.rule, c.op))
	}
	return dedup(out)
}
