package policies

import "k8s.io/apimachinery/pkg/runtime/schema"

// AdmissionRequest renders the request as the admission.k8s.io/v1 AdmissionRequest JSON that a
// webhook receives, as plain Go values (for Rego input and Gatekeeper's input.review).
func (r *Request) AdmissionRequest() map[string]any {
	reqKind, reqResource := r.Kind, r.Resource
	if r.RequestKind != nil {
		reqKind = *r.RequestKind
	}
	if r.RequestResource != nil {
		reqResource = *r.RequestResource
	}
	m := map[string]any{
		"uid":             r.UID,
		"kind":            gvkMap(r.Kind),
		"resource":        gvrMap(r.Resource),
		"requestKind":     gvkMap(reqKind),
		"requestResource": gvrMap(reqResource),
		"operation":       string(r.Operation),
		"userInfo":        r.UserInfoMap(),
		"dryRun":          r.DryRun,
	}
	if r.SubResource != "" {
		m["subResource"] = r.SubResource
		m["requestSubResource"] = r.SubResource
	}
	if r.Name != "" {
		m["name"] = r.Name
	}
	if r.Namespace != "" {
		m["namespace"] = r.Namespace
	}
	if r.Object != nil {
		m["object"] = r.Object.Object
	}
	if r.OldObject != nil {
		m["oldObject"] = r.OldObject.Object
	}
	if r.Options != nil {
		m["options"] = r.Options.Object
	}
	return m
}

// AdmissionReview wraps AdmissionRequest in an admission.k8s.io/v1 AdmissionReview.
func (r *Request) AdmissionReview() map[string]any {
	return map[string]any{
		"apiVersion": "admission.k8s.io/v1",
		"kind":       "AdmissionReview",
		"request":    r.AdmissionRequest(),
	}
}

func gvkMap(gvk schema.GroupVersionKind) map[string]any {
	return map[string]any{"group": gvk.Group, "version": gvk.Version, "kind": gvk.Kind}
}

func gvrMap(gvr schema.GroupVersionResource) map[string]any {
	return map[string]any{"group": gvr.Group, "version": gvr.Version, "resource": gvr.Resource}
}

// UserInfoMap renders who asks as the userInfo of an AdmissionRequest, as plain Go values.
func (r *Request) UserInfoMap() map[string]any {
	m := map[string]any{}
	if r.UserInfo == nil {
		return m
	}
	if n := r.UserInfo.GetName(); n != "" {
		m["username"] = n
	}
	if u := r.UserInfo.GetUID(); u != "" {
		m["uid"] = u
	}
	if g := r.UserInfo.GetGroups(); len(g) > 0 {
		groups := make([]any, len(g))
		for i, s := range g {
			groups[i] = s
		}
		m["groups"] = groups
	}
	if e := r.UserInfo.GetExtra(); len(e) > 0 {
		extra := map[string]any{}
		for k, vs := range e {
			l := make([]any, len(vs))
			for i, s := range vs {
				l[i] = s
			}
			extra[k] = l
		}
		m["extra"] = extra
	}
	return m
}
