package gatekeeper

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// inventoryData builds data.inventory as Gatekeeper syncs it: a namespaced object at
// namespace[ns][apiVersion][kind][name], a cluster-scoped one (no metadata.namespace) at
// cluster[apiVersion][kind][name]. A later object of the same key replaces an earlier one.
func inventoryData(objs []*unstructured.Unstructured) (map[string]any, error) {
	if len(objs) == 0 {
		return nil, nil
	}
	cluster := map[string]any{}
	namespaced := map[string]any{}
	for _, o := range objs {
		gvk := o.GroupVersionKind()
		if gvk.Version == "" {
			return nil, fmt.Errorf("inventory: resource %s has no version", o.GetName())
		}
		if gvk.Kind == "" {
			return nil, fmt.Errorf("inventory: resource %s has no kind", o.GetName())
		}
		root := cluster
		if ns := o.GetNamespace(); ns != "" {
			root = child(namespaced, ns)
		}
		child(child(root, gvk.GroupVersion().String()), gvk.Kind)[o.GetName()] = o.Object
	}
	return map[string]any{"inventory": map[string]any{"cluster": cluster, "namespace": namespaced}}, nil
}

func child(m map[string]any, key string) map[string]any {
	if c, ok := m[key].(map[string]any); ok {
		return c
	}
	c := map[string]any{}
	m[key] = c
	return c
}
