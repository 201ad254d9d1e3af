# The checks of test/load/testdata/admission.rego in conftest's style: the input is the manifest.
package main

pod_spec := input.spec if input.kind == "Pod"

pod_spec := input.spec.template.spec if input.kind in {"Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job"}

containers contains c if some c in pod_spec.containers

containers contains c if some c in pod_spec.initContainers

deny contains msg if {
	some c in containers
	not contains(c.image, "@")
	endswith(c.image, ":latest")
	msg := sprintf("container %q uses the latest tag", [c.name])
}

deny contains msg if {
	some c in containers
	c.securityContext.privileged == true
	msg := sprintf("privileged (container %q must not set securityContext.privileged=true)", [c.name])
}

deny contains "host namespaces (hostNetwork=true)" if pod_spec.hostNetwork == true

deny contains "host namespaces (hostPID=true)" if pod_spec.hostPID == true

deny contains msg if {
	some v in pod_spec.volumes
	v.hostPath
	msg := sprintf("hostPath volumes (volume %q)", [v.name])
}
