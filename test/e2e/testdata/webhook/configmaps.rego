# A conftest-style policy, served unchanged as an admission policy.
package k8s.configmaps

deny contains msg if {
	input.kind == "ConfigMap"
	some key, value in input.data
	contains(lower(value), "password")
	msg := sprintf("ConfigMap %s: key %s looks like it holds a password", [input.metadata.name, key])
}
