package rbacsim

import (
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/verdict-dev/verdict/manifest"
)

// Names are the namespaces, users and groups that manifests name, sorted, each once: what shell
// completion offers for -n, --as and --as-group. Users include the service accounts that bindings
// name, as --as takes them (system:serviceaccount:NAMESPACE:NAME).
type Names struct {
	Namespaces, Users, Groups []string
}

// NamesOf collects the names of docs: the namespaces of objects and Namespace objects, and the
// subjects of RoleBindings and ClusterRoleBindings.
func NamesOf(docs []manifest.Document) Names {
	ns, users, groups := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, d := range docs {
		obj := d.Object
		if n := obj.GetNamespace(); n != "" {
			ns[n] = true
		}
		gvk := obj.GroupVersionKind()
		if gvk.Group == "" && gvk.Kind == "Namespace" && obj.GetName() != "" {
			ns[obj.GetName()] = true
		}
		if gvk.Group != rbacv1.GroupName || (gvk.Kind != "RoleBinding" && gvk.Kind != "ClusterRoleBinding") {
			continue
		}
		subjects, _, _ := unstructured.NestedSlice(obj.Object, "subjects")
		for _, s := range subjects {
			m, ok := s.(map[string]any)
			if !ok {
				continue
			}
			kind, _ := m["kind"].(string)
			name, _ := m["name"].(string)
			if name == "" {
				continue
			}
			switch kind {
			case rbacv1.UserKind:
				users[name] = true
			case rbacv1.GroupKind:
				groups[name] = true
			case rbacv1.ServiceAccountKind:
				sans, _ := m["namespace"].(string)
				if sans == "" {
					sans = obj.GetNamespace()
				}
				if sans != "" {
					users["system:serviceaccount:"+sans+":"+name] = true
				}
			}
		}
	}
	return Names{Namespaces: sortedKeys(ns), Users: sortedKeys(users), Groups: sortedKeys(groups)}
}
