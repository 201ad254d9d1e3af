package simulate

import (
	"context"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/warning"
)

// objectInterfaces are the API server's conversions and defaults, for plugins that need them.
var objectInterfaces = admission.NewObjectInterfacesFromScheme(scheme)

// attempt is one write request in admission: what the API server knows of it.
type attempt struct {
	gvk       schema.GroupVersionKind
	gvr       schema.GroupVersionResource
	namespace string // the request's namespace (a Namespace's own name on update)
	name      string
	op        admission.Operation
	options   runtime.Object
	attrs     authorizer.AttributesRecord // the request's authorization attributes
	warnings  *warnings
	// recorded is true when the object's managed fields are recorded already: a server-side
	// apply's merge records them, where other writes record them on entering admission.
	recorded bool
}

// warnings collect what the API server would send in Warning headers, as its warning recorder does
// (duplicates dropped).
type warnings struct {
	mu   sync.Mutex
	list []string
}

func (w *warnings) AddWarning(_, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, t := range w.list {
		if t == text {
			return
		}
	}
	w.list = append(w.list, text)
}

// context is the request context as the API server's filters leave it: the user, the namespace,
// the request info and a warning recorder.
func (a *attempt) context(ctx context.Context) context.Context {
	ctx = genericapirequest.WithUser(ctx, a.attrs.User)
	ctx = genericapirequest.WithNamespace(ctx, a.namespace)
	ctx = genericapirequest.WithRequestInfo(ctx, &genericapirequest.RequestInfo{
		IsResourceRequest: true, Verb: a.attrs.Verb, APIPrefix: apiPrefix(a.gvr.Group), APIGroup: a.gvr.Group,
		APIVersion: a.gvr.Version, Namespace: a.attrs.Namespace, Resource: a.gvr.Resource, Name: a.name,
	})
	return warning.WithWarningRecorder(ctx, a.warnings)
}

func apiPrefix(group string) string {
	if group == "" {
		return "api"
	}
	return "apis"
}

// attributes are the admission attributes of the attempt with its (internal) object.
func (a *attempt) attributes(obj, old runtime.Object) admission.Attributes {
	return admission.NewAttributesRecord(obj, old, a.gvk, a.namespace, a.name, a.gvr, "", a.op, a.options, false, a.attrs.User)
}

// mutate runs the built-in mutating plugins in order, as the API server's admission chain does;
// the first that refuses names the stage.
func (w *world) mutate(ctx context.Context, attrs admission.Attributes) (string, error) {
	for _, p := range w.cluster.plugins {
		m, ok := p.Interface.(admission.MutationInterface)
		if !ok || !p.Handles(attrs.GetOperation()) {
			continue
		}
		if err := m.Admit(ctx, attrs, objectInterfaces); err != nil {
			return admissionStage + p.name, err
		}
	}
	return "", nil
}

// validate runs the built-in validating plugins of a stage in order: those before the admission
// policies, or the final ones (ResourceQuota).
func (w *world) validate(ctx context.Context, attrs admission.Attributes, plugins []plugin) (string, error) {
	for _, p := range plugins {
		v, ok := p.Interface.(admission.ValidationInterface)
		if !ok || !p.Handles(attrs.GetOperation()) {
			continue
		}
		if err := v.Validate(ctx, attrs, objectInterfaces); err != nil {
			return admissionStage + p.name, err
		}
	}
	return "", nil
}

// createOptions are the options of kubectl apply's POST, or of its apply PATCH as the API server
// hands them to admission.
func createOptions(manager string) runtime.Object {
	return &metav1.CreateOptions{TypeMeta: metav1.TypeMeta{APIVersion: "meta.k8s.io/v1", Kind: "CreateOptions"}, FieldManager: manager, FieldValidation: "Strict"}
}

func updateOptions(manager string) runtime.Object {
	return &metav1.UpdateOptions{TypeMeta: metav1.TypeMeta{APIVersion: "meta.k8s.io/v1", Kind: "UpdateOptions"}, FieldManager: manager, FieldValidation: "Strict"}
}
