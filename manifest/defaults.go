package manifest

import (
	"sync"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/scheme"
	admissionregistrationv1 "k8s.io/kubernetes/pkg/apis/admissionregistration/v1"
	appsv1 "k8s.io/kubernetes/pkg/apis/apps/v1"
	autoscalingv1 "k8s.io/kubernetes/pkg/apis/autoscaling/v1"
	autoscalingv2 "k8s.io/kubernetes/pkg/apis/autoscaling/v2"
	batchv1 "k8s.io/kubernetes/pkg/apis/batch/v1"
	certificatesv1 "k8s.io/kubernetes/pkg/apis/certificates/v1"
	coordinationv1 "k8s.io/kubernetes/pkg/apis/coordination/v1"
	corev1 "k8s.io/kubernetes/pkg/apis/core/v1"
	discoveryv1 "k8s.io/kubernetes/pkg/apis/discovery/v1"
	eventsv1 "k8s.io/kubernetes/pkg/apis/events/v1"
	flowcontrolv1 "k8s.io/kubernetes/pkg/apis/flowcontrol/v1"
	networkingv1 "k8s.io/kubernetes/pkg/apis/networking/v1"
	policyv1 "k8s.io/kubernetes/pkg/apis/policy/v1"
	rbacv1 "k8s.io/kubernetes/pkg/apis/rbac/v1"
	resourcev1 "k8s.io/kubernetes/pkg/apis/resource/v1"
	schedulingv1 "k8s.io/kubernetes/pkg/apis/scheduling/v1"
	storagev1 "k8s.io/kubernetes/pkg/apis/storage/v1"
)

// The API server fills in defaults when it decodes a request, before any admission: a Deployment
// without replicas has one, a container without imagePullPolicy has IfNotPresent (Always for
// :latest), a Service port has protocol TCP. Policies see the defaulted object, so verdict applies
// the same defaulting functions, those kube-apiserver itself registers for the served versions.
var (
	defaulterOnce sync.Once
	defaulter     *runtime.Scheme
)

func builtinDefaulter() *runtime.Scheme {
	defaulterOnce.Do(func() {
		s := runtime.NewScheme()
		if err := scheme.AddToScheme(s); err != nil {
			panic(err) // client-go's own types: cannot fail
		}
		for _, register := range []func(*runtime.Scheme) error{
			admissionregistrationv1.RegisterDefaults, appsv1.RegisterDefaults, autoscalingv1.RegisterDefaults,
			autoscalingv2.RegisterDefaults, batchv1.RegisterDefaults, certificatesv1.RegisterDefaults,
			coordinationv1.RegisterDefaults, corev1.RegisterDefaults, discoveryv1.RegisterDefaults,
			eventsv1.RegisterDefaults, flowcontrolv1.RegisterDefaults, networkingv1.RegisterDefaults,
			policyv1.RegisterDefaults, rbacv1.RegisterDefaults, resourcev1.RegisterDefaults,
			schedulingv1.RegisterDefaults, storagev1.RegisterDefaults,
		} {
			if err := register(s); err != nil {
				panic(err) // generated registrations: cannot fail
			}
		}
		defaulter = s
	})
	return defaulter
}
