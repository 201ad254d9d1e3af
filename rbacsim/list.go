package rbacsim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/apiserver/pkg/authorization/union"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/cli-runtime/pkg/printers"
	authorizationv1client "k8s.io/client-go/kubernetes/typed/authorization/v1"
	kubectlauth "k8s.io/kubectl/pkg/cmd/auth"
	authorizationapi "k8s.io/kubernetes/pkg/apis/authorization"
	authorizationapiv1 "k8s.io/kubernetes/pkg/apis/authorization/v1"
	"k8s.io/kubernetes/pkg/registry/authorization/selfsubjectrulesreview"
	rbacauthorizer "k8s.io/kubernetes/plugin/pkg/auth/authorizer/rbac"
)

// RulesReview answers a SelfSubjectRulesReview of the user for the namespace as kube-apiserver does
// when RBAC is its only authorizer with rules (system:masters has none; Node, webhooks and ABAC are
// not modelled): the API server's own REST storage (pkg/registry/authorization/selfsubjectrulesreview)
// over the RBAC authorizer's RulesFor (plugin/pkg/auth/authorizer/rbac) and its rule resolver fed by
// the model, then converted to authorization.k8s.io/v1 and through JSON, as a client receives it.
// A missing role is no failure: it is the status's evaluationError, as on the server.
func (m *Model) RulesReview(ctx context.Context, u user.Info, namespace string) (*authorizationv1.SelfSubjectRulesReview, error) {
	if u == nil {
		return nil, errors.New("no user for the rules review")
	}
	l := modelListers{m}
	// rbacauthorizer.New builds the same DefaultRuleResolver as m.RuleResolver.
	storage := selfsubjectrulesreview.NewREST(union.NewRuleResolvers(rbacauthorizer.New(l, l, l, l)))
	obj, err := storage.Create(genericapirequest.WithUser(ctx, u),
		&authorizationapi.SelfSubjectRulesReview{Spec: authorizationapi.SelfSubjectRulesReviewSpec{Namespace: namespace}},
		nil, &metav1.CreateOptions{})
	if err != nil {
		return nil, err
	}
	internal, ok := obj.(*authorizationapi.SelfSubjectRulesReview)
	if !ok {
		return nil, fmt.Errorf("the rules review storage returned a %T", obj)
	}
	var v1 authorizationv1.SelfSubjectRulesReview
	if err := authorizationapiv1.Convert_authorization_SelfSubjectRulesReview_To_v1_SelfSubjectRulesReview(internal, &v1, nil); err != nil {
		return nil, err
	}
	v1.APIVersion, v1.Kind = authorizationv1.SchemeGroupVersion.String(), "SelfSubjectRulesReview"
	data, err := json.Marshal(&v1)
	if err != nil {
		return nil, err
	}
	var received authorizationv1.SelfSubjectRulesReview
	if err := json.Unmarshal(data, &received); err != nil {
		return nil, err
	}
	return &received, nil
}

// RulesReviewAllowed says whether the API server lets the user create the SelfSubjectRulesReview that
// kubectl auth can-i --list sends (a new cluster grants it to system:authenticated through
// system:basic-user); when it does not, kubectl fails with Forbidden instead of printing a table.
func (m *Model) RulesReviewAllowed(ctx context.Context, u user.Info) (bool, error) {
	d, _, err := m.Authorize(ctx, authorizer.AttributesRecord{User: u, Verb: "create", APIGroup: authorizationv1.GroupName,
		APIVersion: "v1", Resource: "selfsubjectrulesreviews", ResourceRequest: true})
	return d == authorizer.DecisionAllow, err
}

// WriteAccessList prints a rules review as `kubectl auth can-i --list` does, with kubectl's own code
// (k8s.io/kubectl/pkg/cmd/auth CanIOptions.RunAccessList, given the review as the API server's
// answer): each rule broken down to one verb, resource and name (util/rbac BreakdownRule), the rules of
// one group, resource and name compacted again (CompactRules), sorted by their protobuf string
// (SortableRuleSlice), in the table "Resources  Non-Resource URLs  Resource Names  Verbs" of
// cli-runtime's tab writer, header left out with noHeaders (kubectl's --no-headers). An incomplete
// status (never one of RBAC alone: a missing role only sets evaluationError) is kubectl's warning on
// errOut.
func WriteAccessList(out, errOut io.Writer, status authorizationv1.SubjectRulesReviewStatus, noHeaders bool) error {
	o := &kubectlauth.CanIOptions{
		List:           true,
		NoHeaders:      noHeaders,
		AuthClient:     answeringClient{status: status},
		IOStreams:      genericiooptions.IOStreams{Out: out, ErrOut: errOut},
		WarningPrinter: printers.NewWarningPrinter(errOut, printers.WarningPrinterOptions{}),
	}
	return o.RunAccessList()
}

// answeringClient is the authorization client kubectl's RunAccessList asks: it answers the
// SelfSubjectRulesReview with a review made offline. Other calls are not made by RunAccessList (the
// embedded nil interface would panic).
type answeringClient struct {
	authorizationv1client.AuthorizationV1Interface
	status authorizationv1.SubjectRulesReviewStatus
}

func (c answeringClient) SelfSubjectRulesReviews() authorizationv1client.SelfSubjectRulesReviewInterface {
	return c
}

// Create answers with the status, as the API server answers with a status and no spec.
func (c answeringClient) Create(context.Context, *authorizationv1.SelfSubjectRulesReview, metav1.CreateOptions) (*authorizationv1.SelfSubjectRulesReview, error) {
	return &authorizationv1.SelfSubjectRulesReview{Status: *c.status.DeepCopy()}, nil
}

// flatten lists the errors of an aggregate (nested ones included), or the error itself.
func flatten(err error) []error {
	if err == nil {
		return nil
	}
	var agg utilerrors.Aggregate
	if errors.As(err, &agg) {
		return utilerrors.Flatten(agg).Errors()
	}
	return []error{err}
}
