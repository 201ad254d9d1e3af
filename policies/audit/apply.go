package audit

import (
	"context"
	"encoding/json"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
)

// FieldManager is the field manager of the reports verdict applies.
const FieldManager = "verdict"

// The resources of the reports.
var (
	policyReports        = schema.GroupVersionResource{Group: "wgpolicyk8s.io", Version: "v1alpha2", Resource: "policyreports"}
	clusterPolicyReports = schema.GroupVersionResource{Group: "wgpolicyk8s.io", Version: "v1alpha2", Resource: "clusterpolicyreports"}
)

// Apply writes the reports to the cluster with server-side apply (field manager "verdict"), each
// under the name verdict-audit, and deletes the verdict-audit PolicyReports of namespaces that no
// longer have results, so that the reports in the cluster are those of this audit. It returns the
// reports written, as namespace/name (a ClusterPolicyReport by its name).
func Apply(ctx context.Context, client dynamic.Interface, reports []PolicyReport) ([]string, error) {
	var written []string
	inReport := map[string]bool{}
	for _, rep := range reports {
		gvr := policyReports
		if rep.Kind == ClusterReportKind {
			gvr = clusterPolicyReports
		}
		obj, err := toUnstructured(rep)
		if err != nil {
			return written, err
		}
		_, err = client.Resource(gvr).Namespace(rep.Metadata.Namespace).Apply(ctx, rep.Metadata.Name, obj,
			metav1.ApplyOptions{FieldManager: FieldManager, Force: true})
		if err != nil {
			return written, applyError(rep, gvr, err)
		}
		name := rep.Metadata.Name
		if rep.Metadata.Namespace != "" {
			name = rep.Metadata.Namespace + "/" + name
			inReport[rep.Metadata.Namespace] = true
		}
		written = append(written, name)
	}
	return written, deleteStale(ctx, client, inReport)
}

// applyError says what failed; a resource the API server does not find is a CRD not installed.
func applyError(rep PolicyReport, gvr schema.GroupVersionResource, err error) error {
	what := rep.Kind + " " + rep.Metadata.Name
	if rep.Metadata.Namespace != "" {
		what += " in namespace " + rep.Metadata.Namespace
	}
	if apierrors.IsNotFound(err) {
		return fmt.Errorf("applying %s: the cluster serves no %s %s: install the PolicyReport CRDs (wgpolicyk8s.io): %w",
			what, gvr.GroupResource(), gvr.Version, err)
	}
	return fmt.Errorf("applying %s: %w", what, err)
}

// deleteStale deletes the verdict-audit PolicyReports of the namespaces not in keep.
func deleteStale(ctx context.Context, client dynamic.Interface, keep map[string]bool) error {
	list, err := client.Resource(policyReports).List(ctx, metav1.ListOptions{
		FieldSelector: "metadata.name=" + ReportName, LabelSelector: managedByLabel + "=" + managedBy})
	if err != nil {
		return fmt.Errorf("listing the earlier reports: %w", err)
	}
	for _, item := range list.Items {
		if keep[item.GetNamespace()] {
			continue
		}
		err := client.Resource(policyReports).Namespace(item.GetNamespace()).Delete(ctx, item.GetName(), metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("deleting the earlier report %s/%s: %w", item.GetNamespace(), item.GetName(), err)
		}
	}
	return nil
}

func toUnstructured(rep PolicyReport) (*unstructured.Unstructured, error) {
	data, err := json.Marshal(rep)
	if err != nil {
		return nil, err
	}
	obj := &unstructured.Unstructured{}
	if err := obj.UnmarshalJSON(data); err != nil {
		return nil, err
	}
	return obj, nil
}
