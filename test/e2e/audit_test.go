package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	"github.com/verdict-dev/verdict/policies/audit"
	"github.com/verdict-dev/verdict/policies/check"
	"github.com/verdict-dev/verdict/test/e2e/controlplane"
)

// auditNamespaces are the namespaces of testdata/cluster/audit/objects.yaml.
var auditNamespaces = []string{"lab", "shop"}

// TestAudit runs verdict audit against a kube-apiserver that holds objects created before the
// policies that judge them: ValidatingAdmissionPolicies with two bindings, a Gatekeeper template with
// three constraints (deny, dryrun, warn), and a -p policy file. Its findings are the ones verdict
// check reports for the same objects and policies exported as files, judged as UPDATEs; its
// PolicyReports, applied with the CRDs installed, are read back from the API server.
func TestAudit(t *testing.T) {
	env := controlplane.Start(t)
	objects := newApplier(t, env)
	objects.apply(t, "gatekeeper-crd.yaml")
	objects.apply(t, "team-label.yaml")
	objects.apply(t, "audit/objects.yaml")
	verdict := buildVerdict(t)
	noLatest := filepath.Join("testdata", "cluster", "audit", "extra", "no-latest.yaml")
	judgedNothing(t, env, verdict)
	objects.apply(t, "audit/policies.yaml")

	out, code, stderr := runAudit(t, verdict, "--kubeconfig", env.Kubeconfig, "-p", noLatest, "-o", "json", "--coverage")
	if code != 1 {
		t.Fatalf("audit exit %d, want 1 (denials)\n%s\n%s", code, out, stderr)
	}
	var got struct {
		Results  []check.Result `json:"results"`
		Errors   []check.Error  `json:"errors"`
		Summary  check.Summary  `json:"summary"`
		Coverage audit.Coverage `json:"coverage"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("audit -o json: %v\n%s", err, out)
	}
	want := []string{
		"ConfigMap shop/settings k8steamlabel/prod-configmaps-need-an-owner audit: ConfigMap settings needs a owner label",
		"Deployment lab/stray k8steamlabel/deployments-need-a-team deny: Deployment stray needs a team label",
		"Deployment lab/stray max-replicas/max-replicas-elsewhere warn: more than 5 replicas: 6",
		"Deployment shop/big max-replicas/max-replicas-prod deny: at most 10 replicas",
		"Deployment shop/big max-replicas/max-replicas-prod deny: more than 5 replicas: 20",
		"Namespace lab/lab k8steamlabel/namespaces-need-a-tier warn: Namespace lab needs a tier label",
		"Pod lab/latest no-latest-tag/no-latest-tag deny: an image is tagged latest",
	}
	if diff := cmp.Diff(want, findings(got.Results)); diff != "" {
		t.Errorf("audit findings (-want +got):\n%s", diff)
	}
	if len(got.Errors) != 0 || got.Summary.Denied != 3 || got.Summary.Warned != 2 {
		t.Errorf("summary %+v, errors %v: want 3 objects denied, 2 warned, no error", got.Summary, got.Errors)
	}
	if !slices.Contains(got.Coverage.Uncovered, "services") || !slices.ContainsFunc(got.Coverage.Unused, func(u audit.UnusedEntry) bool {
		return u.Policy == "no-cronjobs"
	}) {
		t.Errorf("coverage: %+v, want services uncovered and no-cronjobs unused", got.Coverage)
	}

	// In pages of one object, through the API server's limit and continue, the findings are the same.
	paged, code, stderr := runAudit(t, verdict, "--kubeconfig", env.Kubeconfig, "-p", noLatest, "-o", "json", "--chunk-size", "1", "--progress")
	var pagedReport check.Report
	if err := json.Unmarshal([]byte(paged), &pagedReport); err != nil || code != 1 {
		t.Fatalf("audit --chunk-size 1: exit %d, %v\n%s", code, err, stderr)
	}
	if diff := cmp.Diff(findings(got.Results), findings(pagedReport.Results)); diff != "" || pagedReport.Summary != got.Summary {
		t.Errorf("audit in pages of one differs (-default +paged):\n%s\n%+v", diff, pagedReport.Summary)
	}
	if !strings.Contains(stderr, "audit: listing deployments.apps (kind ") || !strings.Contains(stderr, "audit: done: ") {
		t.Errorf("--progress printed no progress lines:\n%s", stderr)
	}

	// verdict check on the same objects and policies, exported as files, judged as UPDATEs.
	dir := t.TempDir()
	client, err := dynamic.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	exportObjects(t, client, filepath.Join(dir, "objects.yaml"))
	exportPolicies(t, client, filepath.Join(dir, "policies.yaml"))
	cmd := exec.CommandContext(t.Context(), verdict, "check", "-p", filepath.Join(dir, "policies.yaml"), "-p", noLatest,
		"--operation", "UPDATE", "-o", "json", filepath.Join(dir, "objects.yaml"))
	checkOut, checkCode, checkErr := runCmd(t, cmd)
	if checkCode != 1 {
		t.Fatalf("check exit %d, want 1\n%s\n%s", checkCode, checkOut, checkErr)
	}
	var checked check.Report
	if err := json.Unmarshal([]byte(checkOut), &checked); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(findings(checked.Results), findings(got.Results)); diff != "" {
		t.Errorf("audit and check on the exported objects differ (-check +audit):\n%s", diff)
	}
	t.Logf("audit and check agree on %d findings; audit judged %d objects", len(got.Results), got.Summary.Objects)

	applyReports(t, env, objects, verdict, noLatest)
	readmeAudit(t, env, verdict)
}

// judgedNothing: an audit that judges nothing does not pass, whether there is no policy at all
// (the template alone is no policy) or no object of the kinds the policies take.
func judgedNothing(t *testing.T, env *controlplane.Env, verdict string) {
	t.Helper()
	for _, tc := range []struct {
		name, stderr string
		args         []string
	}{
		{name: "no policy", stderr: "holds no ValidatingAdmissionPolicy or Gatekeeper constraint verdict reads, and no -p was given"},
		{name: "no object", stderr: "no object was judged: the cluster of " + env.Kubeconfig,
			args: []string{"-p", filepath.Join("testdata", "cluster", "audit", "cronjobs.yaml")}},
	} {
		out, code, stderr := runAudit(t, verdict, append([]string{"--kubeconfig", env.Kubeconfig}, tc.args...)...)
		if code != 2 || !strings.Contains(stderr, tc.stderr) {
			t.Errorf("%s: exit %d, want 2 with %q\n%s%s", tc.name, code, tc.stderr, out, stderr)
		}
	}
}

// readmeAudit runs the commands of README's "Audit a cluster" section, with the test's kubeconfig
// and policies: each judges the objects and exits 1 for their denials.
func readmeAudit(t *testing.T, env *controlplane.Env, verdict string) {
	t.Helper()
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, _ := strings.Cut(string(readme), "## Audit a cluster")
	_, block, _ := strings.Cut(section, "```sh\n")
	block, _, _ = strings.Cut(block, "```")
	var ran int
	for _, line := range strings.Split(block, "\n") {
		line, _, _ = strings.Cut(line, " #")
		args := strings.Fields(line)
		if len(args) < 2 || args[0] != "verdict" || args[1] != "audit" {
			continue
		}
		for i, a := range args {
			switch a {
			case "~/.kube/config":
				args[i] = env.Kubeconfig
			case "policies/":
				args[i] = filepath.Join("testdata", "cluster", "audit", "extra")
			}
		}
		out, code, stderr := runAudit(t, verdict, args[2:]...)
		if code != 1 || out == "" {
			t.Errorf("README: %s: exit %d, want 1 with a report\n%s%s", line, code, out, stderr)
		}
		ran++
	}
	if ran != 3 {
		t.Errorf("ran %d commands of README's Audit a cluster section, want 3", ran)
	}
}

// findings are results as sorted lines: object, policy/binding, action and message.
func findings(results []check.Result) []string {
	var out []string
	for _, r := range results {
		out = append(out, fmt.Sprintf("%s %s/%s %s/%s %s: %s", r.Kind, r.Namespace, r.Name, r.Policy, r.Binding, r.Action, r.Message))
	}
	slices.Sort(out)
	return out
}

func runAudit(t *testing.T, verdict string, args ...string) (string, int, string) {
	t.Helper()
	return runCmd(t, exec.CommandContext(t.Context(), verdict, append([]string{"audit"}, args...)...))
}

// runCmd runs a verdict command and returns its standard output, exit code and standard error.
func runCmd(t *testing.T, cmd *exec.Cmd) (string, int, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if exitErr, ok := err.(*exec.ExitError); ok {
		code = exitErr.ExitCode()
	} else if err != nil {
		t.Fatalf("%s: %v", cmd, err)
	}
	return stdout.String(), code, stderr.String()
}

var (
	namespacesResource = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
	auditedResources   = []schema.GroupVersionResource{{Group: "apps", Version: "v1", Resource: "deployments"}, {Version: "v1", Resource: "pods"}, {Version: "v1", Resource: "configmaps"}}
	clusterPolicyKinds = []schema.GroupVersionResource{{Group: "admissionregistration.k8s.io", Version: "v1", Resource: "validatingadmissionpolicies"}, {Group: "admissionregistration.k8s.io", Version: "v1", Resource: "validatingadmissionpolicybindings"}, {Group: "templates.gatekeeper.sh", Version: "v1", Resource: "constrainttemplates"}, {Group: "constraints.gatekeeper.sh", Version: "v1beta1", Resource: "k8steamlabel"}}
	policyReportsGVR   = schema.GroupVersionResource{Group: "wgpolicyk8s.io", Version: "v1alpha2", Resource: "policyreports"}
	clusterReportsGVR  = schema.GroupVersionResource{Group: "wgpolicyk8s.io", Version: "v1alpha2", Resource: "clusterpolicyreports"}
	bookkeeping        = []string{"managedFields", "resourceVersion", "uid", "creationTimestamp", "generation"}
)

// exportObjects writes the audited namespaces and their objects of the audited kinds to a file, as
// kubectl get -o yaml would (less the server's bookkeeping).
func exportObjects(t *testing.T, client dynamic.Interface, path string) {
	t.Helper()
	var objs []unstructured.Unstructured
	for _, ns := range auditNamespaces {
		obj, err := client.Resource(namespacesResource).Get(context.Background(), ns, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		objs = append(objs, *obj)
		for _, gvr := range auditedResources {
			list, err := client.Resource(gvr).Namespace(ns).List(context.Background(), metav1.ListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			objs = append(objs, list.Items...)
		}
	}
	writeObjects(t, path, objs)
}

// exportPolicies writes the cluster's policies to a file.
func exportPolicies(t *testing.T, client dynamic.Interface, path string) {
	t.Helper()
	var objs []unstructured.Unstructured
	for _, gvr := range clusterPolicyKinds {
		list, err := client.Resource(gvr).List(context.Background(), metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, item := range list.Items {
			unstructured.RemoveNestedField(item.Object, "status")
			objs = append(objs, item)
		}
	}
	writeObjects(t, path, objs)
}

func writeObjects(t *testing.T, path string, objs []unstructured.Unstructured) {
	t.Helper()
	var buf bytes.Buffer
	for _, obj := range objs {
		for _, f := range bookkeeping {
			unstructured.RemoveNestedField(obj.Object, "metadata", f)
		}
		data, err := yaml.Marshal(obj.Object)
		if err != nil {
			t.Fatal(err)
		}
		buf.WriteString("---\n")
		buf.Write(data)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// applyReports installs the PolicyReport CRDs, runs audit --apply, and reads the reports back.
func applyReports(t *testing.T, env *controlplane.Env, objects *applier, verdict, noLatest string) {
	t.Helper()
	for _, name := range []string{"wgpolicyk8s.io_policyreports.yaml", "wgpolicyk8s.io_clusterpolicyreports.yaml"} {
		objects.put(t, objects.read(t, filepath.Join("..", "..", "..", "testdata", "policyreport", name))...)
	}
	client, err := dynamic.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	// A report of an earlier audit in a namespace that has no results now: --apply deletes it.
	stale := &unstructured.Unstructured{Object: map[string]any{"apiVersion": audit.ReportAPIVersion, "kind": audit.ReportKind,
		"metadata": map[string]any{"name": audit.ReportName, "namespace": "default", "labels": map[string]any{"app.kubernetes.io/managed-by": "verdict"}}}}
	if _, err := client.Resource(policyReportsGVR).Namespace("default").Create(context.Background(), stale, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	out, code, stderr := runAudit(t, verdict, "--kubeconfig", env.Kubeconfig, "-p", noLatest, "-o", "policyreport", "--apply")
	if code != 1 || !strings.Contains(stderr, "applied 3 reports: lab/verdict-audit, shop/verdict-audit, verdict-audit") {
		t.Fatalf("audit --apply: exit %d, want 1\n%s", code, stderr)
	}
	var printed []audit.PolicyReport
	for _, doc := range strings.Split(out, "---\n") {
		var rep audit.PolicyReport
		if err := yaml.Unmarshal([]byte(doc), &rep); err != nil {
			t.Fatal(err)
		}
		printed = append(printed, rep)
	}
	wantSummaries := map[string]audit.Summary{
		"shop/verdict-audit": {Pass: 5, Fail: 3},
		"lab/verdict-audit":  {Warn: 1, Fail: 2},
		"/verdict-audit":     {Pass: 1, Warn: 1},
	}
	read := map[string]audit.Summary{}
	for _, rep := range printed {
		read[rep.Metadata.Namespace+"/"+rep.Metadata.Name] = rep.Summary
	}
	if diff := cmp.Diff(wantSummaries, read); diff != "" {
		t.Errorf("printed report summaries (-want +got):\n%s", diff)
	}
	checkAppliedReports(t, client, printed, wantSummaries)
}

// checkAppliedReports reads the reports back and compares them with those printed.
func checkAppliedReports(t *testing.T, client dynamic.Interface, printed []audit.PolicyReport, want map[string]audit.Summary) {
	t.Helper()
	got := map[string]audit.Summary{}
	var stored []unstructured.Unstructured
	for _, gvr := range []schema.GroupVersionResource{policyReportsGVR, clusterReportsGVR} {
		list, err := client.Resource(gvr).List(context.Background(), metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		stored = append(stored, list.Items...)
	}
	for _, obj := range stored {
		var rep audit.PolicyReport
		data, _ := obj.MarshalJSON()
		if err := json.Unmarshal(data, &rep); err != nil {
			t.Fatal(err)
		}
		key := obj.GetNamespace() + "/" + obj.GetName()
		got[key] = rep.Summary
		if m := obj.GetManagedFields(); len(m) != 1 || m[0].Manager != "verdict" || m[0].Operation != metav1.ManagedFieldsOperationApply {
			t.Errorf("%s: managed fields %+v, want one server-side apply by verdict", key, m)
		}
		i := slices.IndexFunc(printed, func(p audit.PolicyReport) bool { return p.Metadata.Namespace+"/"+p.Metadata.Name == key })
		if i < 0 {
			continue // reported below
		}
		if diff := cmp.Diff(printed[i].Results, rep.Results); diff != "" {
			t.Errorf("%s: the stored results differ from those printed (-printed +stored):\n%s", key, diff)
		}
		for _, r := range rep.Results {
			if r.Source != "verdict" || !r.Scored || len(r.Resources) != 1 || r.Resources[0].UID == "" || r.Timestamp.Seconds == 0 {
				t.Errorf("%s: result %+v lacks source, scored, its resource with uid, or a timestamp", key, r)
			}
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("stored report summaries (-want +got; the stale report in default must be gone):\n%s", diff)
	}
}
