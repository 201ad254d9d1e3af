package rego

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/metrics"
	oparego "github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/topdown"
)

// UnsafeBuiltins are refused at load unless allowed: they reach outside the evaluation (the network,
// the process environment). Gatekeeper refuses the same.
var UnsafeBuiltins = []string{"http.send", "net.lookup_ip_addr", "opa.runtime"}

// Version says which Rego syntax a module is parsed with.
type Version int

const (
	// Auto parses Rego v1 and falls back to v0 when v1 fails and v0 succeeds, as OPA's v0
	// compatibility mode lets old modules run.
	Auto Version = iota
	// V0 parses the pre-1.0 syntax (Gatekeeper templates).
	V0
	// V1 parses OPA 1.0 syntax only.
	V1
)

// Module is one Rego source file.
type Module struct {
	// Filename names the module in errors: a file path, or "file: document N: spec.targets[0].rego".
	Filename string
	Source   string
	Version  Version
}

// Options tune compilation.
type Options struct {
	// AllowedBuiltins are unsafe builtins the operator allows.
	AllowedBuiltins []string
	// Guard bounds the evaluations of the compiled modules' queries; DefaultGuard when nil.
	Guard *Guard
}

// Compiled is a set of modules compiled together, ready to prepare queries against.
type Compiled struct {
	compiler *ast.Compiler
	modules  map[string]*ast.Module
	unsafe   map[string]struct{}
	warnings []string
	guard    *Guard
}

// Parse parses one module.
func Parse(m Module) (*ast.Module, error) {
	parse := func(v ast.RegoVersion) (*ast.Module, error) {
		return ast.ParseModuleWithOpts(m.Filename, m.Source, ast.ParserOptions{RegoVersion: v, ProcessAnnotation: true})
	}
	switch m.Version {
	case V0:
		return parse(ast.RegoV0)
	case V1:
		return parse(ast.RegoV1)
	}
	mod, err := parse(ast.RegoV1)
	if err == nil {
		return mod, nil
	}
	if mod0, err0 := parse(ast.RegoV0); err0 == nil {
		return mod0, nil
	}
	return nil, err
}

// Compile parses and compiles modules together. Errors carry file, line and column.
func Compile(modules []Module, opts Options) (*Compiled, error) {
	unsafe := unsafeSet(opts.AllowedBuiltins)
	parsed := make(map[string]*ast.Module, len(modules))
	var errs []error
	for _, m := range modules {
		mod, err := Parse(m)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if err := checkBuiltins(mod, unsafe); err != nil {
			errs = append(errs, err)
			continue
		}
		if _, dup := parsed[m.Filename]; dup {
			errs = append(errs, fmt.Errorf("%s: module given twice", m.Filename))
			continue
		}
		parsed[m.Filename] = mod
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	caps := ast.CapabilitiesForThisVersion()
	kept := caps.Builtins[:0:0]
	for _, b := range caps.Builtins {
		if _, bad := unsafe[b.Name]; !bad {
			kept = append(kept, b)
		}
	}
	caps.Builtins = kept
	// The capabilities alone would refuse an unsafe built-in as an undefined function; the unsafe
	// list makes the compiler name it as unsafe, which tells the user which flag allows it.
	//lint:ignore SA1019 the capabilities are set too; the list only words the error
	c := ast.NewCompiler().WithCapabilities(caps).WithUnsafeBuiltins(unsafe).WithEnablePrintStatements(false)
	c.Compile(parsed)
	if c.Failed() {
		return nil, c.Errors
	}
	guard := opts.Guard
	if guard == nil {
		guard = DefaultGuard()
	}
	return &Compiled{compiler: c, modules: parsed, unsafe: unsafe, warnings: nondeterministic(parsed, caps), guard: guard}, nil
}

func unsafeSet(allowed []string) map[string]struct{} {
	set := map[string]struct{}{}
	for _, b := range UnsafeBuiltins {
		set[b] = struct{}{}
	}
	for _, a := range allowed {
		delete(set, a)
	}
	return set
}

// checkBuiltins refuses calls of unsafe builtins, naming the file, line, rule and builtin.
func checkBuiltins(mod *ast.Module, unsafe map[string]struct{}) error {
	var errs []string
	eachCall(mod, func(rule, op string, where *ast.Location) {
		if _, bad := unsafe[op]; bad {
			errs = append(errs, fmt.Sprintf("%s:%d:%d: rule %s calls %s, which reaches outside the evaluation and is not allowed (allow it with --allow-builtin %s)",
				where.File, where.Row, where.Col, rule, op, op))
		}
	})
	if len(errs) == 0 {
		return nil
	}
	sort.Strings(errs)
	return errors.New(strings.Join(dedup(errs), "\n"))
}

// eachCall calls f with every builtin or function call of the module's rules: the rule's name, the
// operator and where the call is (the package's location when OPA gives none).
func eachCall(mod *ast.Module, f func(rule, op string, where *ast.Location)) {
	for _, rule := range mod.Rules {
		name := rule.Head.Ref().String()
		report := func(op string, loc *ast.Location) {
			where := mod.Package.Location
			if loc != nil {
				where = loc
			}
			f(name, op, where)
		}
		ast.WalkExprs(rule, func(e *ast.Expr) bool {
			if e.IsCall() {
				report(e.Operator().String(), e.Location)
			}
			return false
		})
		ast.WalkTerms(rule, func(t *ast.Term) bool {
			if call, ok := t.Value.(ast.Call); ok && len(call) > 0 {
				report(call[0].String(), t.Location)
			}
			return false
		})
	}
}

func dedup(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// Warnings are what the modules do that is allowed but worth telling their author, each naming the
// file, line, column and rule: calls of builtins whose result changes from one evaluation to the next.
func (c *Compiled) Warnings() []string { return c.warnings }

// Modules returns the parsed modules by file name.
func (c *Compiled) Modules() map[string]*ast.Module { return c.modules }

// Query is a prepared query: evaluating it does no parsing or compiling.
type Query struct {
	prepared oparego.PreparedEvalQuery
	text     string
	guard    *Guard
}

// Prepare prepares a query against the compiled modules and fixed data (nil for none).
func (c *Compiled) Prepare(ctx context.Context, query string, data map[string]any) (*Query, error) {
	var store storage.Store
	if data != nil {
		store = inmem.NewFromObjectWithOpts(data, inmem.OptRoundTripOnWrite(false))
	} else {
		store = inmem.New()
	}
	pq, err := oparego.New(
		oparego.Query(query),
		oparego.Compiler(c.compiler),
		oparego.Store(store),
		oparego.UnsafeBuiltins(c.unsafe),
		oparego.StrictBuiltinErrors(false),
	).PrepareForEval(ctx)
	if err != nil {
		return nil, fmt.Errorf("preparing %s: %w", query, err)
	}
	return &Query{prepared: pq, text: query, guard: c.guard}, nil
}

// Eval evaluates the query with input and returns the value of each result's first expression.
// Evaluation waits for a slot of the guard, and stops when ctx is done or the guard's heap limit is
// passed; the error then says which.
func (q *Query) Eval(ctx context.Context, input ast.Value) (_ []any, err error) {
	defer func() {
		// A lazy input (see Input) converts values as they are read, and panics on a type JSON
		// does not have.
		if p := recover(); p != nil {
			err = fmt.Errorf("evaluation of %s failed: %v", q.text, p)
		}
	}()
	ctx, release, err := q.guard.enter(ctx)
	if err != nil {
		return nil, fmt.Errorf("evaluation of %s did not start: %w", q.text, err)
	}
	defer release()
	// OPA's metrics are not read: its no-op spares each evaluation a set of timers.
	opts := []oparego.EvalOption{oparego.EvalParsedInput(input), oparego.EvalMetrics(metrics.NoOp())}
	if now, ok := nowOf(ctx); ok {
		opts = append(opts, oparego.EvalTime(now))
	}
	rs, err := q.prepared.Eval(ctx, opts...)
	if err != nil {
		var herr *topdown.Error
		if (errors.As(err, &herr) && herr.Code == topdown.CancelErr) || ctx.Err() != nil {
			return nil, fmt.Errorf("evaluation of %s stopped: %w", q.text, context.Cause(ctx))
		}
		return nil, err
	}
	out := make([]any, 0, len(rs))
	for _, r := range rs {
		if len(r.Expressions) > 0 {
			out = append(out, r.Expressions[0].Value)
		}
	}
	return out, nil
}

// Input converts a Go value (maps, slices, strings, numbers, booleans) to a Rego value. An object
// is converted lazily, as the rules read it: a rule that reads three fields of a Pod converts
// three fields, not the Pod. The value is then for one goroutine at a time.
func Input(v any) (ast.Value, error) {
	if m, ok := v.(map[string]any); ok {
		return ast.LazyObject(m), nil
	}
	return ast.InterfaceToValue(v)
}
