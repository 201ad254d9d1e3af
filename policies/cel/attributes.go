package cel

import (
	"context"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"

	"github.com/verdict-dev/verdict/policies"
)

// Attributes presents a request to the API server's admission code.
func Attributes(req *policies.Request) admission.Attributes {
	var obj, old, opts runtime.Object
	if req.Object != nil {
		obj = req.Object
	}
	if req.OldObject != nil {
		old = req.OldObject
	}
	if req.Options != nil {
		opts = req.Options
	}
	info := req.UserInfo
	if info == nil {
		info = &user.DefaultInfo{}
	}
	return admission.NewAttributesRecord(obj, old, req.Kind, req.Namespace, req.Name, req.Resource, req.SubResource,
		admission.Operation(req.Operation), opts, req.DryRun, info)
}

// ObjectInterfaces are the conversion and equivalence services of admission. verdict judges objects in
// the version they were written in, so it needs no conversions.
var ObjectInterfaces = admission.NewObjectInterfacesFromScheme(runtime.NewScheme())

// NoAuthorizer answers every authorization check in a CEL expression with no opinion, which CEL's
// authorizer library reports as not allowed: offline there is no authorizer to ask.
var NoAuthorizer authorizer.UnconditionalAuthorizer = noAuthorizer{}

type noAuthorizer struct{}

func (noAuthorizer) Authorize(context.Context, authorizer.Attributes) (authorizer.Decision, string, error) {
	return authorizer.DecisionNoOpinion, "verdict evaluates offline: no authorizer is configured", nil
}
