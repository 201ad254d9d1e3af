package gatekeeper

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/verdict-dev/verdict/policies"
	vrego "github.com/verdict-dev/verdict/policies/rego"
)

// regoTemplate is a template's Rego, compiled once; its query is prepared against an inventory.
type regoTemplate struct {
	compiled *vrego.Compiled
	query    string // data.<package>.violation
	prepared *vrego.Query
}

var (
	dataRef      = ast.DefaultRootRef
	libRef       = ast.MustParseRef("data.lib")
	inventoryRef = ast.MustParseRef("data.inventory")
)

// compileRego compiles a template's Rego and its libraries with Gatekeeper's rules: Rego v0 unless the
// code block says version v1; the template must define violation; libraries live under data.lib;
// the only data a template or library may read is data.lib and data.inventory.
func compileRego(src *regoSource, opts Options) (*regoTemplate, error) {
	version := vrego.V0
	if src.Version == "v1" {
		version = vrego.V1
	}
	main := vrego.Module{Filename: src.path + ".rego", Source: src.Rego, Version: version}
	mod, err := vrego.Parse(main)
	if err != nil {
		return nil, regoError(err)
	}
	if mod == nil {
		return nil, fmt.Errorf("%s: module is empty", main.Filename)
	}
	if !definesRule(mod, "violation") {
		return nil, fmt.Errorf("%s: invalid rego: missing required rules: [violation]", main.Filename)
	}
	var errs []string
	errs = append(errs, checkRefs(main.Filename, mod)...)
	modules := []vrego.Module{main}
	for i, lib := range src.Libs {
		m := vrego.Module{Filename: fmt.Sprintf("%s.libs[%d]", src.path, i), Source: lib, Version: version}
		lm, err := vrego.Parse(m)
		if err != nil {
			return nil, regoError(err)
		}
		if p := lm.Package.Path; !p.HasPrefix(libRef) || p.Equal(libRef) {
			errs = append(errs, fmt.Sprintf("%s: package %s: a library's package must be under data.lib", m.Filename, strings.TrimPrefix(p.String(), "data.")))
		}
		errs = append(errs, checkRefs(m.Filename, lm)...)
		modules = append(modules, m)
	}
	if len(errs) > 0 {
		return nil, errors.New(strings.Join(errs, "\n"))
	}
	compiled, err := vrego.Compile(modules, vrego.Options{AllowedBuiltins: opts.AllowedBuiltins})
	if err != nil {
		return nil, regoError(err)
	}
	return &regoTemplate{compiled: compiled, query: mod.Package.Path.String() + ".violation"}, nil
}

func definesRule(mod *ast.Module, name string) bool {
	for _, r := range mod.Rules {
		if ref := r.Head.Ref(); len(ref) > 0 && ref[0].Value.Compare(ast.Var(name)) == 0 {
			return true
		}
	}
	return false
}

// checkRefs refuses imports and data references outside data.lib and data.inventory, as
// Gatekeeper's rewriter does.
func checkRefs(file string, mod *ast.Module) []string {
	var errs []string
	for _, imp := range mod.Imports {
		ref, ok := imp.Path.Value.(ast.Ref)
		if !ok || !ref.HasPrefix(dataRef) {
			continue // future.keywords, rego.v1, input
		}
		if !ref.HasPrefix(libRef) || ref.Equal(libRef) {
			errs = append(errs, fmt.Sprintf("%s:%d: bad import %s: a template may import only libraries under data.lib", file, imp.Location.Row, ref))
		}
	}
	for _, rule := range mod.Rules {
		ast.WalkRefs(rule, func(ref ast.Ref) bool {
			if !ref.HasPrefix(dataRef) || ref.HasPrefix(libRef) || ref.HasPrefix(inventoryRef) {
				return false
			}
			row := 0
			if len(ref) > 0 && ref[0].Location != nil {
				row = ref[0].Location.Row
			}
			errs = append(errs, fmt.Sprintf("%s:%d: disallowed ref %s: a template may read only data.lib and data.inventory", file, row, ref))
			return false
		})
	}
	return errs
}

// regoError formats OPA's errors with line and column.
func regoError(err error) error {
	var astErrs ast.Errors
	if !errors.As(err, &astErrs) {
		return err
	}
	lines := make([]string, 0, len(astErrs))
	for _, e := range astErrs {
		if e.Location == nil {
			lines = append(lines, fmt.Sprintf("%s: %s", e.Code, e.Message))
			continue
		}
		lines = append(lines, fmt.Sprintf("%s:%d:%d: %s: %s", e.Location.File, e.Location.Row, e.Location.Col, e.Code, e.Message))
	}
	return errors.New(strings.Join(lines, "\n"))
}

// prepare prepares the template's query against an inventory.
func (r *regoTemplate) prepare(ctx context.Context, data map[string]any) (*regoTemplate, error) {
	q, err := r.compiled.Prepare(ctx, r.query, data)
	if err != nil {
		return nil, err
	}
	return &regoTemplate{compiled: r.compiled, query: r.query, prepared: q}, nil
}

// eval evaluates the template for one constraint, as Gatekeeper's hook does: input is the review and
// the constraint's parameters; each violation needs a msg, and its details default to {}.
func (r *regoTemplate) eval(ctx context.Context, review map[string]any, c *constraint) ([]violation, error) {
	// A lazy object converts only the parts of the review the template reads.
	input, _ := vrego.Input(map[string]any{"review": review, "parameters": c.params})
	values, err := r.prepared.Eval(ctx, input)
	if err != nil {
		return nil, err
	}
	var out []violation
	for _, v := range values {
		items, ok := v.([]any)
		if !ok {
			return nil, fmt.Errorf("violation must be a set of objects, not %T", v)
		}
		for _, it := range items {
			obj, ok := it.(map[string]any)
			if !ok {
				continue // not an object: r.msg is undefined, so Gatekeeper's hook yields nothing
			}
			raw, ok := obj["msg"]
			if !ok {
				continue
			}
			msg, ok := raw.(string)
			if !ok {
				return nil, fmt.Errorf("violation msg must be a string, not %v", raw)
			}
			details, ok := obj["details"]
			if !ok {
				details = map[string]any{}
			}
			out = append(out, violation{engine: policies.Rego, msg: msg, details: details})
		}
	}
	return out, nil
}

// violation is what an engine says about a request for one constraint.
type violation struct {
	engine  policies.Engine
	msg     string
	details any
}
