package manifest

import (
	"fmt"
	"strings"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/scheme"
)

// Resource is what the API server knows of a kind: its resource name and scope.
type Resource struct {
	GVR        schema.GroupVersionResource
	Namespaced bool
}

// Resources maps kinds to resources: the built-in kinds of the current Kubernetes release and the
// kinds of the CustomResourceDefinitions added to it.
type Resources struct {
	kinds map[schema.GroupVersionKind]Resource
}

// clusterScoped lists the built-in kinds that have no namespace, by group and kind.
var clusterScoped = map[schema.GroupKind]bool{
	{Kind: "Namespace"}: true, {Kind: "Node"}: true, {Kind: "PersistentVolume"}: true, {Kind: "ComponentStatus"}: true,
	{Group: "rbac.authorization.k8s.io", Kind: "ClusterRole"}:                         true,
	{Group: "rbac.authorization.k8s.io", Kind: "ClusterRoleBinding"}:                  true,
	{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"}:                 true,
	{Group: "apiregistration.k8s.io", Kind: "APIService"}:                             true,
	{Group: "admissionregistration.k8s.io", Kind: "MutatingWebhookConfiguration"}:     true,
	{Group: "admissionregistration.k8s.io", Kind: "ValidatingWebhookConfiguration"}:   true,
	{Group: "admissionregistration.k8s.io", Kind: "ValidatingAdmissionPolicy"}:        true,
	{Group: "admissionregistration.k8s.io", Kind: "ValidatingAdmissionPolicyBinding"}: true,
	{Group: "admissionregistration.k8s.io", Kind: "MutatingAdmissionPolicy"}:          true,
	{Group: "admissionregistration.k8s.io", Kind: "MutatingAdmissionPolicyBinding"}:   true,
	{Group: "storage.k8s.io", Kind: "StorageClass"}:                                   true,
	{Group: "storage.k8s.io", Kind: "CSIDriver"}:                                      true,
	{Group: "storage.k8s.io", Kind: "CSINode"}:                                        true,
	{Group: "storage.k8s.io", Kind: "VolumeAttachment"}:                               true,
	{Group: "storage.k8s.io", Kind: "VolumeAttributesClass"}:                          true,
	{Group: "scheduling.k8s.io", Kind: "PriorityClass"}:                               true,
	{Group: "node.k8s.io", Kind: "RuntimeClass"}:                                      true,
	{Group: "certificates.k8s.io", Kind: "CertificateSigningRequest"}:                 true,
	{Group: "certificates.k8s.io", Kind: "ClusterTrustBundle"}:                        true,
	{Group: "flowcontrol.apiserver.k8s.io", Kind: "FlowSchema"}:                       true,
	{Group: "flowcontrol.apiserver.k8s.io", Kind: "PriorityLevelConfiguration"}:       true,
	{Group: "networking.k8s.io", Kind: "IngressClass"}:                                true,
	{Group: "networking.k8s.io", Kind: "IPAddress"}:                                   true,
	{Group: "networking.k8s.io", Kind: "ServiceCIDR"}:                                 true,
	{Group: "authentication.k8s.io", Kind: "TokenReview"}:                             true,
	{Group: "authentication.k8s.io", Kind: "SelfSubjectReview"}:                       true,
	{Group: "authorization.k8s.io", Kind: "SubjectAccessReview"}:                      true,
	{Group: "authorization.k8s.io", Kind: "SelfSubjectAccessReview"}:                  true,
	{Group: "authorization.k8s.io", Kind: "SelfSubjectRulesReview"}:                   true,
	{Group: "resource.k8s.io", Kind: "DeviceClass"}:                                   true,
	{Group: "resource.k8s.io", Kind: "ResourceSlice"}:                                 true,
	{Group: "resource.k8s.io", Kind: "DeviceTaintRule"}:                               true,
	{Group: "internal.apiserver.k8s.io", Kind: "StorageVersion"}:                      true,
	{Group: "storagemigration.k8s.io", Kind: "StorageVersionMigration"}:               true,
}

// notResources are kinds registered in the client scheme that are not stored resources.
var notResources = map[string]bool{
	"WatchEvent": true, "Status": true, "APIGroup": true, "APIGroupList": true, "APIResourceList": true,
	"APIVersions": true, "Eviction": true, "Binding": false, "Scale": true, "TokenRequest": true,
	"DeploymentRollback": true, "InternalEvent": true, "Table": true, "PartialObjectMetadata": true,
	"RangeAllocation": true, "SerializedReference": true, "NodeProxyOptions": true, "PodAttachOptions": true,
	"PodExecOptions": true, "PodLogOptions": true, "PodPortForwardOptions": true, "PodProxyOptions": true,
	"ServiceProxyOptions": true, "PodStatusResult": true,
}

// BuiltinResources returns the resources of the built-in kinds. It is computed once per call; callers
// keep the result.
func BuiltinResources() *Resources {
	r := &Resources{kinds: map[schema.GroupVersionKind]Resource{}}
	for gvk := range scheme.Scheme.AllKnownTypes() {
		if gvk.Version == runtime.APIVersionInternal || notResources[gvk.Kind] ||
			strings.HasSuffix(gvk.Kind, "List") || strings.HasSuffix(gvk.Kind, "Options") {
			continue
		}
		plural, _ := meta.UnsafeGuessKindToResource(gvk)
		r.kinds[gvk] = Resource{GVR: plural, Namespaced: !clusterScoped[gvk.GroupKind()]}
	}
	// The client scheme does not carry CustomResourceDefinition or APIService.
	for _, v := range []string{"v1"} {
		r.kinds[schema.GroupVersionKind{Group: "apiextensions.k8s.io", Version: v, Kind: "CustomResourceDefinition"}] =
			Resource{GVR: schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: v, Resource: "customresourcedefinitions"}}
		r.kinds[schema.GroupVersionKind{Group: "apiregistration.k8s.io", Version: v, Kind: "APIService"}] =
			Resource{GVR: schema.GroupVersionResource{Group: "apiregistration.k8s.io", Version: v, Resource: "apiservices"}}
	}
	return r
}

// Lookup returns the resource of a kind.
func (r *Resources) Lookup(gvk schema.GroupVersionKind) (Resource, bool) {
	res, ok := r.kinds[gvk]
	return res, ok
}

// Clone returns a copy that can be extended without changing r.
func (r *Resources) Clone() *Resources {
	c := &Resources{kinds: make(map[schema.GroupVersionKind]Resource, len(r.kinds)+16)}
	for k, v := range r.kinds {
		c.kinds[k] = v
	}
	return c
}

// IsCRD reports whether obj is a CustomResourceDefinition.
func IsCRD(obj *unstructured.Unstructured) bool {
	gvk := obj.GroupVersionKind()
	return gvk.Group == "apiextensions.k8s.io" && gvk.Kind == "CustomResourceDefinition"
}

// AddCRD adds the kinds a CustomResourceDefinition serves.
func (r *Resources) AddCRD(obj *unstructured.Unstructured) error {
	crd := &apiextensionsv1.CustomResourceDefinition{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, crd); err != nil {
		return fmt.Errorf("CustomResourceDefinition %q: %w", obj.GetName(), err)
	}
	if crd.Spec.Group == "" || crd.Spec.Names.Kind == "" || crd.Spec.Names.Plural == "" {
		return fmt.Errorf("CustomResourceDefinition %q: spec.group, spec.names.kind and spec.names.plural are required", obj.GetName())
	}
	namespaced := crd.Spec.Scope != apiextensionsv1.ClusterScoped
	for _, v := range crd.Spec.Versions {
		if !v.Served {
			continue
		}
		gvk := schema.GroupVersionKind{Group: crd.Spec.Group, Version: v.Name, Kind: crd.Spec.Names.Kind}
		r.kinds[gvk] = Resource{
			GVR:        schema.GroupVersionResource{Group: crd.Spec.Group, Version: v.Name, Resource: crd.Spec.Names.Plural},
			Namespaced: namespaced,
		}
	}
	return nil
}

// NoKindMatchError is the error for a kind the API server would not know, worded as kubectl words it.
type NoKindMatchError struct{ GVK schema.GroupVersionKind }

func (e *NoKindMatchError) Error() string {
	return fmt.Sprintf("no matches for kind %q in version %q; ensure CRDs are installed first (add the CustomResourceDefinition to the inputs)",
		e.GVK.Kind, e.GVK.GroupVersion().String())
}
