package audit

import (
	"cmp"
	"io"
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/verdict-dev/verdict/manifest"
)

// The PolicyReport API verdict writes, as the wg-policy CRDs define it (v1alpha2 is the version
// Kyverno writes and policy-reporter reads).
const (
	ReportAPIVersion         = "wgpolicyk8s.io/v1alpha2"
	ReportKind               = "PolicyReport"
	ClusterReportKind        = "ClusterPolicyReport"
	ReportName               = "verdict-audit"
	ReportSource             = "verdict"
	managedByLabel           = "app.kubernetes.io/managed-by"
	managedBy                = "verdict"
	propertyAction           = "action"
	propertyEngine           = "engine"
	propertyFormat           = "format"
	clusterScopedReportSpace = ""
)

// PolicyReport is a wgpolicyk8s.io PolicyReport or ClusterPolicyReport.
type PolicyReport struct {
	APIVersion string         `json:"apiVersion"`
	Kind       string         `json:"kind"`
	Metadata   ReportMetadata `json:"metadata"`
	Summary    Summary        `json:"summary"`
	Results    []ReportResult `json:"results"`
}

// ReportMetadata is the metadata verdict sets on a report.
type ReportMetadata struct {
	Name      string            `json:"name"`
	Namespace string            `json:"namespace,omitempty"`
	Labels    map[string]string `json:"labels"`
}

// Summary counts a report's results by result.
type Summary struct {
	Pass  int `json:"pass"`
	Fail  int `json:"fail"`
	Warn  int `json:"warn"`
	Error int `json:"error"`
	Skip  int `json:"skip"`
}

// ReportResult is one result of a PolicyReport: what one policy says of one object.
type ReportResult struct {
	Policy string `json:"policy"`
	// Rule is the binding (a VAP binding, a Gatekeeper constraint); empty for plain Rego.
	Rule       string                   `json:"rule,omitempty"`
	Result     Result                   `json:"result"`
	Message    string                   `json:"message,omitempty"`
	Resources  []corev1.ObjectReference `json:"resources"`
	Source     string                   `json:"source"`
	Scored     bool                     `json:"scored"`
	Properties map[string]string        `json:"properties,omitempty"`
	Timestamp  metav1.Timestamp         `json:"timestamp"`
}

// PolicyReports are the report's results as one PolicyReport per namespace that has results, in
// namespace order, then the ClusterPolicyReport of the cluster-scoped objects, written even when it
// has none (so that applying it replaces the results of an earlier audit).
func (r *Report) PolicyReports() []PolicyReport {
	byNamespace := map[string]*PolicyReport{clusterScopedReportSpace: newReport(clusterScopedReportSpace)}
	ts := metav1.Timestamp{Seconds: r.Time.Unix(), Nanos: int32(r.Time.Nanosecond())}
	for _, e := range r.Entries {
		ns := e.Object.Namespace
		rep := byNamespace[ns]
		if rep == nil {
			rep = newReport(ns)
			byNamespace[ns] = rep
		}
		rep.add(e, ts)
	}
	var out []PolicyReport
	for _, ns := range slices.SortedFunc(maps.Keys(byNamespace), cmpClusterLast) {
		out = append(out, *byNamespace[ns])
	}
	return out
}

func newReport(namespace string) *PolicyReport {
	kind := ReportKind
	if namespace == clusterScopedReportSpace {
		kind = ClusterReportKind
	}
	return &PolicyReport{APIVersion: ReportAPIVersion, Kind: kind, Results: []ReportResult{},
		Metadata: ReportMetadata{Name: ReportName, Namespace: namespace, Labels: map[string]string{managedByLabel: managedBy}}}
}

func (rep *PolicyReport) add(e Entry, ts metav1.Timestamp) {
	res := ReportResult{Policy: e.Policy.Policy, Rule: e.Policy.Binding, Result: e.Result, Message: e.Message,
		Source: ReportSource, Scored: true, Timestamp: ts,
		Resources: []corev1.ObjectReference{{APIVersion: e.Object.APIVersion, Kind: e.Object.Kind, Namespace: e.Object.Namespace,
			Name: e.Object.Name, UID: types.UID(e.Object.UID)}}}
	props := map[string]string{}
	for k, v := range map[string]string{propertyAction: string(e.Action), propertyEngine: string(e.Policy.Engine), propertyFormat: e.Policy.Format} {
		if v != "" {
			props[k] = v
		}
	}
	if len(props) > 0 {
		res.Properties = props
	}
	rep.Results = append(rep.Results, res)
	switch e.Result {
	case Pass:
		rep.Summary.Pass++
	case Fail:
		rep.Summary.Fail++
	case Warn:
		rep.Summary.Warn++
	case Error:
		rep.Summary.Error++
	}
}

// cmpClusterLast orders namespaces by name, the cluster-scoped report ("") last.
func cmpClusterLast(a, b string) int {
	if (a == "") != (b == "") {
		if a == "" {
			return 1
		}
		return -1
	}
	return cmp.Compare(a, b)
}

// writeYAML writes the reports as YAML documents, as kubectl apply -f - takes them.
func writeYAML(w io.Writer, reports []PolicyReport) error { return manifest.WriteYAML(w, reports) }
