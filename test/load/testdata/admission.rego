# The load test's Rego policy, served by OPA and by verdict alike: a few of the baseline Pod Security
# checks and the latest-tag rule, over the AdmissionReview as OPA's admission tutorial has it.
package kubernetes.admission

pod_spec := input.request.object.spec if input.request.kind.kind == "Pod"

pod_spec := input.request.object.spec.template.spec if input.request.kind.kind in {"Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job"}

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
