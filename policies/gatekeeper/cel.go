package gatekeeper

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/admission/plugin/policy/validating"
	celconfig "k8s.io/apiserver/pkg/apis/cel"

	"github.com/verdict-dev/verdict/policies"
	vcel "github.com/verdict-dev/verdict/policies/cel"
)

// The variables Gatekeeper binds before a template's own, and the prefix it reserves.
const (
	paramsVariable    = "params"
	anyObjectVariable = "anyObject"
	reservedPrefix    = "gatekeeper_internal_"
)

// builtinVariables are what Gatekeeper's K8sNativeValidation driver declares before the template's
// variables: the constraint is the policy's params, so variables.params is its spec.parameters, and
// variables.anyObject is the object, or the old object on DELETE.
var builtinVariables = []admissionregistrationv1.Variable{
	{Name: anyObjectVariable, Expression: `has(request.operation) && request.operation == "DELETE" && object == null ? oldObject : object`},
	{Name: paramsVariable, Expression: `!has(params.spec) ? null : !has(params.spec.parameters) ? null: params.spec.parameters`},
}

// celTemplate is a template's K8sNativeValidation block, compiled by the API server's compiler.
type celTemplate struct {
	validator vcel.Validator
}

func compileCEL(name string, src *celSource) (*celTemplate, error) {
	path := src.path
	var errs field.ErrorList
	spec := vcel.Spec{Name: name, HasParams: true, Variables: append([]admissionregistrationv1.Variable(nil), builtinVariables...)}
	for i, v := range src.Variables {
		p := field.NewPath(path).Child("variables").Index(i).Child("name")
		switch {
		case strings.HasPrefix(v.Name, reservedPrefix):
			errs = append(errs, field.Invalid(p, v.Name, fmt.Sprintf("cannot have %q as a prefix", reservedPrefix)))
		case v.Name == paramsVariable || v.Name == anyObjectVariable:
			errs = append(errs, field.Invalid(p, v.Name, fmt.Sprintf("%q is a reserved keyword", v.Name)))
		}
		spec.Variables = append(spec.Variables, admissionregistrationv1.Variable{Name: v.Name, Expression: v.Expression})
	}
	for i, mc := range src.MatchCondition {
		if strings.HasPrefix(mc.Name, reservedPrefix) {
			errs = append(errs, field.Invalid(field.NewPath(path).Child("matchConditions").Index(i).Child("name"), mc.Name,
				fmt.Sprintf("cannot have %q as a prefix", reservedPrefix)))
		}
		spec.MatchConditions = append(spec.MatchConditions, admissionregistrationv1.MatchCondition{Name: mc.Name, Expression: mc.Expression})
	}
	for _, v := range src.Validations {
		spec.Validations = append(spec.Validations, admissionregistrationv1.Validation{
			Expression: v.Expression, Message: v.Message, MessageExpression: v.MessageExpression,
		})
	}
	if fp := src.FailurePolicy; fp != nil {
		switch p := admissionregistrationv1.FailurePolicyType(*fp); p {
		case admissionregistrationv1.Fail, admissionregistrationv1.Ignore:
			spec.FailurePolicy = &p
		default:
			errs = append(errs, field.NotSupported(field.NewPath(path).Child("failurePolicy"), *fp, []string{"Fail", "Ignore"}))
		}
	}
	if len(errs) > 0 {
		return nil, errs.ToAggregate()
	}
	validator, cerrs := vcel.Compile(spec, field.NewPath(path))
	if len(cerrs) > 0 {
		return nil, renumberVariables(cerrs, path).ToAggregate()
	}
	return &celTemplate{validator: validator}, nil
}

var variableIndex = regexp.MustCompile(`\.variables\[(\d+)\]`)

// renumberVariables shifts the variable indexes of errors past Gatekeeper's own variables, so that
// they point into the template.
func renumberVariables(errs field.ErrorList, path string) field.ErrorList {
	for _, e := range errs {
		if !strings.HasPrefix(e.Field, path+".variables[") {
			continue
		}
		e.Field = variableIndex.ReplaceAllStringFunc(e.Field, func(s string) string {
			n, _ := strconv.Atoi(variableIndex.FindStringSubmatch(s)[1])
			n -= len(builtinVariables)
			if n < 0 {
				return ".variables[gatekeeper]"
			}
			return fmt.Sprintf(".variables[%d]", n)
		})
	}
	return errs
}

// eval validates the request against one constraint. As Gatekeeper's driver, it gives the constraint
// as params, no namespace object, and the per-call cost limit; a decision to deny is a violation, with
// an evaluation error (under the template's failure policy) as its message.
func (t *celTemplate) eval(ctx context.Context, va *admission.VersionedAttributes, c *constraint) []violation {
	res := t.validator.Validate(ctx, va.GetResource(), va, c.obj, nil, celconfig.PerCallLimit, vcel.NoAuthorizer)
	var out []violation
	for _, d := range res.Decisions {
		if d.Action == validating.ActionDeny {
			out = append(out, violation{engine: policies.CEL, msg: d.Message})
		}
	}
	return out
}
