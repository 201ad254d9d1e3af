package cel

import (
	"context"
	"sync"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/admission"
	plugincel "k8s.io/apiserver/pkg/admission/plugin/cel"
	"k8s.io/apiserver/pkg/admission/plugin/policy/validating"
	"k8s.io/apiserver/pkg/admission/plugin/webhook/matchconditions"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/apiserver/pkg/cel/environment"
)

// Spec is what a validating policy expresses in CEL, in ValidatingAdmissionPolicy's shape.
type Spec struct {
	// Name names the policy in match-condition errors.
	Name             string
	Variables        []admissionregistrationv1.Variable
	MatchConditions  []admissionregistrationv1.MatchCondition
	Validations      []admissionregistrationv1.Validation
	AuditAnnotations []admissionregistrationv1.AuditAnnotation
	HasParams        bool
	FailurePolicy    *admissionregistrationv1.FailurePolicyType
}

// Validator is a compiled Spec: kube-apiserver's own validator, with one shortcut. kube-apiserver
// evaluates every messageExpression of a policy on every request, whether or not its validation
// failed; verdict first evaluates the validations alone and evaluates the messages only when one
// fails, which halves the cost of policies that give each validation a messageExpression (as the
// Pod Security policies do). The decisions are the same, except in one case kube-apiserver has and
// verdict has not: messageExpressions that by themselves exceed the runtime cost budget of a request
// whose validations all pass, which kube-apiserver refuses.
type Validator interface {
	Validate(ctx context.Context, matchedResource schema.GroupVersionResource, versionedAttr *admission.VersionedAttributes,
		versionedParams runtime.Object, namespace *corev1.Namespace, runtimeCELCostBudget int64,
		authz authorizer.UnconditionalAuthorizer) validating.ValidateResult
}

type validator struct {
	quick validating.Validator // without messageExpressions; nil when the policy has none
	full  validating.Validator
}

func (v *validator) Validate(ctx context.Context, matchedResource schema.GroupVersionResource, versionedAttr *admission.VersionedAttributes,
	versionedParams runtime.Object, namespace *corev1.Namespace, budget int64, authz authorizer.UnconditionalAuthorizer) validating.ValidateResult {
	if v.quick != nil {
		res := v.quick.Validate(ctx, matchedResource, versionedAttr, versionedParams, namespace, budget, authz)
		if !denies(res) {
			return res
		}
	}
	return v.full.Validate(ctx, matchedResource, versionedAttr, versionedParams, namespace, budget, authz)
}

func denies(res validating.ValidateResult) bool {
	for _, d := range res.Decisions {
		if d.Action == validating.ActionDeny {
			return true
		}
	}
	return false
}

var (
	baseEnvOnce sync.Once
	baseEnv     *environment.EnvSet
)

// BaseEnv is the environment of the API server's admission policies at its default compatibility
// version, built once per process.
func BaseEnv() *environment.EnvSet {
	baseEnvOnce.Do(func() {
		baseEnv = environment.MustBaseEnvSet(environment.DefaultCompatibilityVersion())
	})
	return baseEnv
}

// Mode is the environment expressions are compiled in: kube-apiserver compiles new or changed
// expressions in the NewExpressions environment and refuses those that fail there, so verdict
// compiles every expression there once, at load.
const Mode = environment.NewExpressions

// Compile compiles spec. The field paths of errors start at fld (for a VAP, "spec").
func Compile(spec Spec, fld *field.Path) (Validator, field.ErrorList) {
	optionalVars := plugincel.OptionalVariableDeclarations{HasParams: spec.HasParams, HasAuthorizer: true}
	messageVars := plugincel.OptionalVariableDeclarations{HasParams: spec.HasParams, HasAuthorizer: false}

	compiler, err := plugincel.NewCompositedCompiler(BaseEnv())
	if err != nil {
		return nil, field.ErrorList{field.InternalError(fld, err)}
	}
	var errs field.ErrorList
	for i, v := range spec.Variables {
		res := compiler.CompileAndStoreVariable(&validating.Variable{Name: v.Name, Expression: v.Expression}, optionalVars, Mode)
		if res.Error != nil {
			errs = append(errs, field.Invalid(fld.Child("variables").Index(i).Child("expression"), v.Expression, res.Error.Error()))
		}
	}

	validations := make([]plugincel.ExpressionAccessor, len(spec.Validations))
	messages := make([]plugincel.ExpressionAccessor, len(spec.Validations))
	for i, v := range spec.Validations {
		validations[i] = &validating.ValidationCondition{Expression: v.Expression, Message: v.Message, Reason: v.Reason}
		if v.MessageExpression != "" {
			messages[i] = &validating.MessageExpressionCondition{MessageExpression: v.MessageExpression}
		}
	}
	annotations := make([]plugincel.ExpressionAccessor, len(spec.AuditAnnotations))
	for i, a := range spec.AuditAnnotations {
		annotations[i] = &validating.AuditAnnotationCondition{Key: a.Key, ValueExpression: a.ValueExpression}
	}
	conditions := make([]plugincel.ExpressionAccessor, len(spec.MatchConditions))
	for i := range spec.MatchConditions {
		conditions[i] = (*matchconditions.MatchCondition)(&spec.MatchConditions[i])
	}

	validationEval := compiler.CompileCondition(validations, optionalVars, Mode)
	messageEval := compiler.CompileCondition(messages, messageVars, Mode)
	annotationEval := compiler.CompileCondition(annotations, optionalVars, Mode)
	var matcher matchconditions.Matcher
	if len(conditions) > 0 {
		conditionEval := compiler.CompileCondition(conditions, optionalVars, Mode)
		errs = append(errs, locate(compiler, conditionEval, conditions, optionalVars, fld.Child("matchConditions"), "expression")...)
		matcher = matchconditions.NewMatcher(conditionEval, spec.FailurePolicy, "policy", "validate", spec.Name)
	}
	errs = append(errs, locate(compiler, validationEval, validations, optionalVars, fld.Child("validations"), "expression")...)
	errs = append(errs, locate(compiler, messageEval, messages, messageVars, fld.Child("validations"), "messageExpression")...)
	errs = append(errs, locate(compiler, annotationEval, annotations, optionalVars, fld.Child("auditAnnotations"), "valueExpression")...)
	if len(errs) > 0 {
		return nil, errs
	}
	v := &validator{full: validating.NewValidator(validationEval, matcher, annotationEval, messageEval, spec.FailurePolicy, nil)}
	for _, m := range messages {
		if m != nil {
			noMessages := compiler.CompileCondition(nil, messageVars, Mode)
			v.quick = validating.NewValidator(validationEval, matcher, annotationEval, noMessages, spec.FailurePolicy, nil)
			break
		}
	}
	return v, nil
}

// locate turns the compile errors of a condition into field errors. The condition reports its errors
// without their index, so only when there are any is each expression compiled again to find which.
func locate(compiler *plugincel.CompositedCompiler, eval plugincel.ConditionEvaluator, exprs []plugincel.ExpressionAccessor,
	vars plugincel.OptionalVariableDeclarations, fld *field.Path, child string) field.ErrorList {
	if len(eval.CompilationErrors()) == 0 {
		return nil
	}
	var errs field.ErrorList
	for i, e := range exprs {
		if e == nil {
			continue
		}
		if res := compiler.CompileCELExpression(e, vars, Mode); res.Error != nil {
			errs = append(errs, field.Invalid(fld.Index(i).Child(child), e.GetExpression(), res.Error.Error()))
		}
	}
	return errs
}
