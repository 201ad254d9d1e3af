package yamlsubset

import "strings"

// words are keys and values that nearly every manifest repeats. Decode returns these strings
// instead of allocating a copy of each occurrence: a large RBAC folder holds "apiGroups" and "get"
// hundreds of thousands of times, and the copies were most of what the garbage collector had to do.
var words = func() map[string]string {
	const list = `apiVersion kind metadata name namespace labels annotations spec status data stringData type
rules apiGroups resources verbs resourceNames nonResourceURLs subjects roleRef apiGroup aggregationRule
clusterRoleSelectors matchLabels matchExpressions key operator values In NotIn Exists DoesNotExist
User Group ServiceAccount Role ClusterRole RoleBinding ClusterRoleBinding rbac.authorization.k8s.io
rbac.authorization.k8s.io/v1 v1 apps/v1 batch/v1 networking.k8s.io/v1 policy/v1 apps batch networking.k8s.io
get list watch create update patch delete deletecollection * bind escalate impersonate use
pods services configmaps secrets deployments statefulsets daemonsets replicasets jobs cronjobs ingresses
serviceaccounts namespaces nodes events leases endpoints persistentvolumeclaims status log exec
Pod Deployment StatefulSet DaemonSet ReplicaSet Job CronJob Service ConfigMap Secret Namespace Ingress
replicas selector template containers initContainers image imagePullPolicy command args env value
valueFrom ports containerPort protocol TCP UDP port targetPort limits requests cpu memory
securityContext volumeMounts mountPath volumes readOnly livenessProbe readinessProbe httpGet path
runAsNonRoot runAsUser allowPrivilegeEscalation capabilities drop add ALL seccompProfile RuntimeDefault
app app.kubernetes.io/name app.kubernetes.io/instance app.kubernetes.io/component
app.kubernetes.io/part-of app.kubernetes.io/managed-by app.kubernetes.io/version
serviceAccountName nodeSelector tolerations affinity restartPolicy Always IfNotPresent Never
ClusterIP NodePort LoadBalancer Opaque true false`
	m := map[string]string{}
	for _, w := range strings.Fields(list) {
		m[w] = w
	}
	return m
}()

// boxedWords are words as values of a document: a string in an interface is a pointer to a copy of
// its header, which each occurrence would allocate again.
var boxedWords = func() map[string]any {
	m := make(map[string]any, len(words))
	for w := range words {
		m[w] = w
	}
	return m
}()

// strValue returns b as a string value of a document, without allocating when it is one of words.
func strValue(b []byte) any {
	if v, ok := boxedWords[string(b)]; ok {
		return v
	}
	return string(b)
}

// str returns b as a string, without allocating when it is one of words.
func str(b []byte) string {
	if s, ok := words[string(b)]; ok {
		return s
	}
	return string(b)
}
