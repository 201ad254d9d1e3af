package rbacsim

import (
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/verdict-dev/verdict/manifest"
)

// decodeStrict converts an object into an API type, refusing unknown fields as kubectl's strict
// field validation does, and naming the field of a value of the wrong type.
//
// The four RBAC kinds, as people write them (name, namespace, labels, annotations, rules, subjects,
// roleRef), are converted field by field: reflection over the types was half of loading a large
// RBAC folder. Anything else (other metadata, aggregationRule, a null, a value of another type, an
// unknown field) goes through apimachinery's converter, which gives the same object or the error;
// TestConvertMatchesConverter checks that both give the same objects.
func decodeStrict(object map[string]any, into any) error {
	if convertRBAC(object, into) {
		return nil
	}
	resetRBAC(into) // the field-by-field attempt may have filled some fields
	return manifest.ConvertStrict(object, into)
}

func resetRBAC(into any) {
	switch o := into.(type) {
	case *rbacv1.Role:
		*o = rbacv1.Role{}
	case *rbacv1.ClusterRole:
		*o = rbacv1.ClusterRole{}
	case *rbacv1.RoleBinding:
		*o = rbacv1.RoleBinding{}
	case *rbacv1.ClusterRoleBinding:
		*o = rbacv1.ClusterRoleBinding{}
	}
}

func convertRBAC(object map[string]any, into any) bool {
	switch o := into.(type) {
	case *rbacv1.Role:
		return convertObject(object, &o.TypeMeta, &o.ObjectMeta, func(k string, v any) bool {
			return k == "rules" && convertRules(v, &o.Rules)
		})
	case *rbacv1.ClusterRole:
		return convertObject(object, &o.TypeMeta, &o.ObjectMeta, func(k string, v any) bool {
			return k == "rules" && convertRules(v, &o.Rules)
		})
	case *rbacv1.RoleBinding:
		return convertObject(object, &o.TypeMeta, &o.ObjectMeta, func(k string, v any) bool {
			return convertBindingField(k, v, &o.Subjects, &o.RoleRef)
		})
	case *rbacv1.ClusterRoleBinding:
		return convertObject(object, &o.TypeMeta, &o.ObjectMeta, func(k string, v any) bool {
			return convertBindingField(k, v, &o.Subjects, &o.RoleRef)
		})
	}
	return false
}

// convertObject converts apiVersion, kind and metadata, and hands every other field to field.
func convertObject(object map[string]any, tm *metav1.TypeMeta, om *metav1.ObjectMeta, field func(k string, v any) bool) bool {
	for k, v := range object {
		var ok bool
		switch k {
		case "apiVersion":
			tm.APIVersion, ok = v.(string)
		case "kind":
			tm.Kind, ok = v.(string)
		case "metadata":
			ok = convertMeta(v, om)
		default:
			ok = field(k, v)
		}
		if !ok {
			return false
		}
	}
	return true
}

func convertMeta(v any, om *metav1.ObjectMeta) bool {
	m, ok := v.(map[string]any)
	if !ok {
		return false
	}
	for k, v := range m {
		switch k {
		case "name":
			om.Name, ok = v.(string)
		case "namespace":
			om.Namespace, ok = v.(string)
		case "labels":
			om.Labels, ok = convertStringMap(v)
		case "annotations":
			om.Annotations, ok = convertStringMap(v)
		default:
			return false
		}
		if !ok {
			return false
		}
	}
	return true
}

func convertBindingField(k string, v any, subjects *[]rbacv1.Subject, ref *rbacv1.RoleRef) bool {
	switch k {
	case "subjects":
		items, ok := v.([]any)
		if !ok {
			return false
		}
		*subjects = make([]rbacv1.Subject, len(items))
		for i, it := range items {
			s := &(*subjects)[i]
			ok := convertStrings(it, func(k string) *string {
				switch k {
				case "kind":
					return &s.Kind
				case "apiGroup":
					return &s.APIGroup
				case "name":
					return &s.Name
				case "namespace":
					return &s.Namespace
				}
				return nil
			})
			if !ok {
				return false
			}
		}
		return true
	case "roleRef":
		return convertStrings(v, func(k string) *string {
			switch k {
			case "apiGroup":
				return &ref.APIGroup
			case "kind":
				return &ref.Kind
			case "name":
				return &ref.Name
			}
			return nil
		})
	}
	return false
}

func convertRules(v any, rules *[]rbacv1.PolicyRule) bool {
	items, ok := v.([]any)
	if !ok {
		return false
	}
	*rules = make([]rbacv1.PolicyRule, len(items))
	for i, it := range items {
		m, ok := it.(map[string]any)
		if !ok {
			return false
		}
		r := &(*rules)[i]
		for k, v := range m {
			var dst *[]string
			switch k {
			case "verbs":
				dst = &r.Verbs
			case "apiGroups":
				dst = &r.APIGroups
			case "resources":
				dst = &r.Resources
			case "resourceNames":
				dst = &r.ResourceNames
			case "nonResourceURLs":
				dst = &r.NonResourceURLs
			default:
				return false
			}
			if *dst, ok = convertStringSlice(v); !ok {
				return false
			}
		}
	}
	return true
}

// convertStrings sets the string fields of an object that field names; a field it does not know
// (nil), or a value that is not a string, refuses the object.
func convertStrings(v any, field func(k string) *string) bool {
	m, ok := v.(map[string]any)
	if !ok {
		return false
	}
	for k, v := range m {
		dst := field(k)
		if dst == nil {
			return false
		}
		if *dst, ok = v.(string); !ok {
			return false
		}
	}
	return true
}

func convertStringSlice(v any) ([]string, bool) {
	items, ok := v.([]any)
	if !ok {
		return nil, false
	}
	out := make([]string, len(items))
	for i, it := range items {
		if out[i], ok = it.(string); !ok {
			return nil, false
		}
	}
	return out, true
}

func convertStringMap(v any) (map[string]string, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, false
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		s, ok := v.(string)
		if !ok {
			return nil, false
		}
		out[k] = s
	}
	return out, true
}
