// Package cel is verdict's CEL engine: the environment, compiler and evaluator of kube-apiserver's
// admission policies (k8s.io/apiserver/pkg/admission/plugin/cel and .../policy/validating), so that
// quantity(), url(), ip(), cidr(), regex, list, format, optional types and the runtime cost budget
// behave exactly as in the API server. It compiles a set of variables, match conditions, validations
// and audit annotations once, reporting every compile error with its field path, line and column, and
// evaluates them against admission attributes. It knows nothing of policy formats: policies/vap and
// policies/gatekeeper build on it.
package cel
