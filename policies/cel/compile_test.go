package cel

import (
	"context"
	"strings"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/admission/plugin/policy/validating"
	celconfig "k8s.io/apiserver/pkg/apis/cel"

	"github.com/verdict-dev/verdict/policies"
)

func TestCompileErrorsNameTheField(t *testing.T) {
	_, errs := Compile(Spec{
		Variables:       []admissionregistrationv1.Variable{{Name: "ok", Expression: "1"}, {Name: "bad", Expression: "objct.x"}},
		MatchConditions: []admissionregistrationv1.MatchCondition{{Name: "m", Expression: "'x'"}},
		Validations: []admissionregistrationv1.Validation{
			{Expression: "true"},
			{Expression: "true", MessageExpression: "1 +"},
		},
		AuditAnnotations: []admissionregistrationv1.AuditAnnotation{{Key: "k", ValueExpression: "true"}},
	}, field.NewPath("spec"))
	got := errs.ToAggregate().Error()
	for _, want := range []string{
		"spec.variables[1].expression", "undeclared reference to 'objct'", "<input>:1:1",
		"spec.matchConditions[0].expression", "must evaluate to bool",
		"spec.validations[1].messageExpression", "Syntax error",
		"spec.auditAnnotations[0].valueExpression", "must evaluate to one of [string null_type]",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("errors %q\ndo not contain %q", got, want)
		}
	}
	if strings.Contains(got, "spec.validations[0]") {
		t.Errorf("a valid validation is reported: %q", got)
	}
}

// The shortcut (messages only when a validation fails) gives kube-apiserver's decisions and messages.
func TestValidatorMatchesKubeApiserver(t *testing.T) {
	spec := Spec{
		Validations: []admissionregistrationv1.Validation{
			{Expression: "object.spec.replicas <= 3", MessageExpression: "'replicas ' + string(object.spec.replicas)"},
			{Expression: "has(object.metadata.labels)", Message: "labels please"},
		},
	}
	ours, errs := Compile(spec, field.NewPath("spec"))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	full := ours.(*validator).full
	for _, replicas := range []int64{1, 5} {
		obj := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "apps/v1", "kind": "Deployment",
			"metadata": map[string]any{"name": "d", "namespace": "n"},
			"spec":     map[string]any{"replicas": replicas},
		}}
		req := &policies.Request{Kind: schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"},
			Resource: schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"},
			Name:     "d", Namespace: "n", Operation: policies.Create, Object: obj}
		va, err := admission.NewVersionedAttributes(Attributes(req), req.Kind, ObjectInterfaces)
		if err != nil {
			t.Fatal(err)
		}
		gvr := req.Resource
		a := ours.Validate(context.Background(), gvr, va, nil, nil, celconfig.RuntimeCELCostBudget, NoAuthorizer)
		b := full.Validate(context.Background(), gvr, va, nil, nil, celconfig.RuntimeCELCostBudget, NoAuthorizer)
		if len(a.Decisions) != len(b.Decisions) {
			t.Fatalf("replicas %d: %d decisions, kube-apiserver's validator %d", replicas, len(a.Decisions), len(b.Decisions))
		}
		for i := range a.Decisions {
			if a.Decisions[i].Action != b.Decisions[i].Action || a.Decisions[i].Message != b.Decisions[i].Message {
				t.Errorf("replicas %d, validation %d: %v %q, kube-apiserver's %v %q", replicas, i,
					a.Decisions[i].Action, a.Decisions[i].Message, b.Decisions[i].Action, b.Decisions[i].Message)
			}
		}
		if replicas == 5 && a.Decisions[0].Action != validating.ActionDeny {
			t.Errorf("5 replicas not denied")
		}
	}
}
