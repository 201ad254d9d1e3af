package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/verdict-dev/verdict/internal/testkit"
	"github.com/verdict-dev/verdict/policies/bundle"
	"github.com/verdict-dev/verdict/policies/source"
	"github.com/verdict-dev/verdict/test"
	"github.com/verdict-dev/verdict/test/e2e/controlplane"
	"github.com/verdict-dev/verdict/webhook"
)

// TestInstall applies what config/default installs to a real API server and runs verdict serve
// --from-cluster as the install's ServiceAccount would run it (impersonated, with the policies of
// the install's ConfigMap): it must become ready, which it only does once it may list everything it
// watches, and must judge with the cluster's policies and the default set's ConfigMap params.
//
// cert-manager's Issuer and Certificate are left out (envtest has no cert-manager), and the
// webhook configuration is applied with failurePolicy Ignore, since no Pod serves it here: the API
// server still checks it, matchConditions' CEL included.
func TestInstall(t *testing.T) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("kubectl is not installed")
	}
	env := controlplane.Start(t)
	ctx := context.Background()
	rendered, err := exec.Command(kubectl, "kustomize", filepath.Join("..", "..", "config", "default")).Output()
	if err != nil {
		t.Fatalf("kubectl kustomize config/default: %v", err)
	}
	var docs []*unstructured.Unstructured
	dec := yaml.NewYAMLOrJSONDecoder(bytes.NewReader(rendered), 4096)
	for {
		obj := &unstructured.Unstructured{}
		if err := dec.Decode(&obj.Object); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if len(obj.Object) > 0 && obj.GroupVersionKind().Group != "cert-manager.io" {
			docs = append(docs, obj)
		}
	}
	// The account and the policy files are the Deployment's: its serviceAccountName, and the
	// ConfigMap it mounts (named with the generator's hash).
	var account, policiesConfigMap string
	for _, obj := range docs {
		if obj.GetKind() != "Deployment" {
			continue
		}
		sa, _, _ := unstructured.NestedString(obj.Object, "spec", "template", "spec", "serviceAccountName")
		account = "system:serviceaccount:" + obj.GetNamespace() + ":" + sa
		volumes, _, _ := unstructured.NestedSlice(obj.Object, "spec", "template", "spec", "volumes")
		for _, v := range volumes {
			if name, ok, _ := unstructured.NestedString(v.(map[string]any), "configMap", "name"); ok {
				policiesConfigMap = name
			}
		}
	}
	objects := newApplier(t, env)
	var policyFiles map[string]string
	var validating *unstructured.Unstructured
	for _, obj := range docs { // in kustomize's order: Namespaces first
		switch obj.GetKind() {
		case "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration":
			if obj.GetKind() == "ValidatingWebhookConfiguration" {
				validating = obj.DeepCopy()
			}
			webhooks, _, _ := unstructured.NestedSlice(obj.Object, "webhooks")
			for _, w := range webhooks {
				w.(map[string]any)["failurePolicy"] = "Ignore"
			}
			if err := unstructured.SetNestedSlice(obj.Object, webhooks, "webhooks"); err != nil {
				t.Fatal(err)
			}
		case "ConfigMap":
			if obj.GetName() == policiesConfigMap {
				policyFiles, _, _ = unstructured.NestedStringMap(obj.Object, "data")
			}
		}
		objects.put(t, obj)
	}
	if account == "" || len(policyFiles) == 0 || validating == nil {
		t.Fatalf("config/default renders no Deployment that mounts its policies (account %q, %d policy files), or no ValidatingWebhookConfiguration", account, len(policyFiles))
	}

	// The cluster's policies: a ValidatingAdmissionPolicy, and a Gatekeeper template and constraint.
	objects.apply(t, "gatekeeper-crd.yaml")
	objects.apply(t, "team-label.yaml")
	objects.apply(t, "team-label-constraint.yaml")
	objects.apply(t, "vap.yaml")
	ns := "e2e-cluster"
	if _, err := env.Clientset.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	// verdict serve --from-cluster -p /etc/verdict/policies, as the ServiceAccount.
	dir := t.TempDir()
	policyDir := filepath.Join(dir, "policies")
	if err := os.MkdirAll(policyDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range policyFiles {
		if err := os.WriteFile(filepath.Join(policyDir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	as := rest.CopyConfig(env.Config)
	as.Impersonate = rest.ImpersonationConfig{UserName: account}
	assertReadOnly(t, as, ns)
	srv := serveVerdict(t, ctx, webhook.Options{
		Policies: bundle.Options{Paths: []string{policyDir}},
		Cluster:  &source.ClusterOptions{Config: as, Rediscover: time.Second},
	})
	var last string
	for deadline := time.Now().Add(90 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		code, body := httpGet("http://" + srv.health + "/readyz?verbose")
		if code == http.StatusOK && strings.Contains(body, "[+]cluster-policies ok") {
			break
		}
		last = body
		if time.Now().After(deadline) {
			t.Fatalf("verdict serve as %s is not ready after 90s (can it list what it watches?):\n%s", account, last)
		}
	}
	if skipped := srv.Policies().Skipped(); len(skipped) != 0 {
		t.Errorf("cluster policies left out: %q", skipped)
	}

	client := tlsClient(t, srv.cert)
	review := func(t *testing.T, name string, labels map[string]string, replicas int32) *admissionv1.AdmissionResponse {
		t.Helper()
		d := deployment(name, labels, replicas)
		d.Namespace = ns
		d.APIVersion, d.Kind = "apps/v1", "Deployment"
		raw, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		kind := metav1.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}
		resource := metav1.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
		body, _ := json.Marshal(&admissionv1.AdmissionReview{
			TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
			Request: &admissionv1.AdmissionRequest{
				UID: types.UID("e2e-" + name), Kind: kind, Resource: resource, RequestKind: &kind, RequestResource: &resource,
				Name: name, Namespace: ns, Operation: admissionv1.Create,
				UserInfo: authenticationv1.UserInfo{Username: "alice", Groups: []string{"system:authenticated"}},
				Object:   runtime.RawExtension{Raw: raw},
			},
		})
		resp, err := client.Post("https://"+srv.addr+"/validate?timeout=10s", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out admissionv1.AdmissionReview
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Response == nil {
			t.Fatalf("HTTP %d: %v", resp.StatusCode, err)
		}
		return out.Response
	}
	message := func(r *admissionv1.AdmissionResponse) string {
		if r.Result == nil {
			return ""
		}
		return r.Result.Message
	}

	t.Run("the cluster's Gatekeeper constraint denies", func(t *testing.T) {
		r := review(t, "no-team", nil, 1)
		if want := "[deployments-need-a-team] Deployment no-team needs a team label"; r.Allowed || !strings.Contains(message(r), want) {
			t.Errorf("allowed %v, message %q; want denied with %q", r.Allowed, message(r), want)
		}
	})
	t.Run("the cluster's ValidatingAdmissionPolicy denies", func(t *testing.T) {
		r := review(t, "big", map[string]string{"team": "a"}, 11)
		if want := "at most 10 replicas"; r.Allowed || !strings.Contains(message(r), want) {
			t.Errorf("allowed %v, message %q; want denied with %q", r.Allowed, message(r), want)
		}
	})
	// The default set's require-labels takes the ConfigMap verdict-system/required-labels as its
	// param (parameterNotFoundAction: Deny): a compliant Deployment is allowed only if verdict can
	// read it, and is warned of the label it lacks.
	t.Run("a compliant Deployment is allowed, judged with the install's params", func(t *testing.T) {
		r := review(t, "web", map[string]string{"team": "a"}, 1)
		if !r.Allowed {
			t.Fatalf("denied: %s", message(r))
		}
		if got, want := strings.Join(r.Warnings, "\n"), "'require-labels' with binding 'require-labels': missing required label: app.kubernetes.io/name"; !strings.Contains(got, want) {
			t.Errorf("warnings %q, want %q (the label its param names)", got, want)
		}
	})

	t.Run("while verdict is down, what the webhook skips still passes and the rest is refused", func(t *testing.T) {
		failClosedPaths(t, env, objects, validating, ns)
	})

	t.Run("the optional components are valid webhook configurations", func(t *testing.T) {
		out := renderWithComponents(t, kubectl, "mutating", "pods-exec")
		dec := yaml.NewYAMLOrJSONDecoder(bytes.NewReader(out), 4096)
		kinds := map[string]bool{}
		for {
			obj := &unstructured.Unstructured{}
			if err := dec.Decode(&obj.Object); err == io.EOF {
				break
			} else if err != nil {
				t.Fatal(err)
			}
			if k := obj.GetKind(); k == "ValidatingWebhookConfiguration" || k == "MutatingWebhookConfiguration" {
				kinds[k] = true
				_, err := objects.resource(t, obj).Apply(ctx, obj.GetName(), obj, metav1.ApplyOptions{FieldManager: "e2e", Force: true, DryRun: []string{metav1.DryRunAll}})
				if err != nil {
					t.Errorf("%s %s: %v", k, obj.GetName(), err)
				}
			}
		}
		if len(kinds) != 2 {
			t.Errorf("rendered webhook configurations: %v", kinds)
		}
	})
}

// renderWithComponents renders config/default with the optional components of those names.
func renderWithComponents(t *testing.T, kubectl string, names ...string) []byte {
	t.Helper()
	out, err := exec.Command(kubectl, "kustomize", test.WithComponents(t, filepath.Join("..", "..", "config"), names...)).Output()
	if err != nil {
		t.Fatalf("kubectl kustomize with %v: %v", names, err)
	}
	return out
}

// failClosedPaths points the install's ValidatingWebhookConfiguration, failing closed as installed,
// at a port where nothing listens, as when every replica is down: a user's request that it
// registers is refused, and the requests it skips (the control plane's namespaces, leases, events,
// the kubelets) go through.
func failClosedPaths(t *testing.T, env *controlplane.Env, objects *applier, validating *unstructured.Unstructured, ns string) {
	down := "https://" + testkit.FreeAddr(t) + "/validate"
	cfg := validating.DeepCopy()
	webhooks, _, _ := unstructured.NestedSlice(cfg.Object, "webhooks")
	for _, w := range webhooks {
		w := w.(map[string]any)
		w["clientConfig"] = map[string]any{"url": down}
		if w["failurePolicy"] != "Fail" {
			t.Fatalf("webhook %v fails open (%v)", w["name"], w["failurePolicy"])
		}
	}
	if err := unstructured.SetNestedSlice(cfg.Object, webhooks, "webhooks"); err != nil {
		t.Fatal(err)
	}
	cfg.SetAnnotations(nil)
	objects.put(t, cfg)
	ctx := context.Background()
	admin := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
		"metadata": map[string]any{"name": "e2e-users"},
		"roleRef":  map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
		"subjects": []any{
			map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "alice"},
			map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:nodes"},
		},
	}}
	objects.put(t, admin)
	clientAs := func(user string, groups ...string) kubernetes.Interface {
		c := rest.CopyConfig(env.Config)
		c.Impersonate = rest.ImpersonationConfig{UserName: user, Groups: groups}
		return kubernetes.NewForConfigOrDie(c)
	}
	alice, node := clientAs("alice"), clientAs("system:node:n1", "system:nodes", "system:authenticated")
	dry := metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}
	configMap := func(c kubernetes.Interface, namespace string) error {
		_, err := c.CoreV1().ConfigMaps(namespace).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "probe"}}, dry)
		return err
	}
	testkit.WaitFor(t, 30*time.Second, "the API server to call the webhook that is down", func() bool {
		err := configMap(alice, ns)
		return err != nil && strings.Contains(err.Error(), "failed calling webhook")
	})

	lease := func(c kubernetes.Interface, namespace string) error {
		_, err := c.CoordinationV1().Leases(namespace).Create(ctx, &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "n1"}}, dry)
		return err
	}
	event := func(c kubernetes.Interface, namespace string) error {
		now := metav1.Now()
		_, err := c.CoreV1().Events(namespace).Create(ctx, &corev1.Event{
			ObjectMeta:     metav1.ObjectMeta{Name: "probe"},
			InvolvedObject: corev1.ObjectReference{Kind: "ConfigMap", Namespace: namespace, Name: "probe", APIVersion: "v1"},
			Reason:         "Probe", Message: "probe", Type: corev1.EventTypeNormal, FirstTimestamp: now, LastTimestamp: now, Count: 1,
			Source: corev1.EventSource{Component: "e2e"},
		}, dry)
		return err
	}
	createDeployment := func(c kubernetes.Interface, namespace string) error {
		_, err := c.AppsV1().Deployments(namespace).Create(ctx, deployment("probe", nil, 1), dry)
		return err
	}
	for _, tc := range []struct {
		name    string
		request func() error
		refused bool
	}{
		{"a user's ConfigMap", func() error { return configMap(alice, ns) }, true},
		{"a user's Deployment", func() error { return createDeployment(alice, ns) }, true},
		{"a user's Deployment in kube-system", func() error { return createDeployment(alice, "kube-system") }, false},
		{"a user's ConfigMap in verdict-system", func() error { return configMap(alice, "verdict-system") }, false},
		{"a node's Lease in kube-node-lease", func() error { return lease(node, "kube-node-lease") }, false},
		{"a Lease elsewhere", func() error { return lease(alice, ns) }, false},
		{"an Event", func() error { return event(alice, ns) }, false},
		{"a node's ConfigMap", func() error { return configMap(node, ns) }, false},
	} {
		err := tc.request()
		if refused := err != nil && strings.Contains(err.Error(), "failed calling webhook"); refused != tc.refused {
			t.Errorf("%s: error = %v; want refused by the webhook: %v", tc.name, err, tc.refused)
		} else if !tc.refused && err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

// assertReadOnly checks that the install's account may read but not write what verdict watches.
func assertReadOnly(t *testing.T, as *rest.Config, ns string) {
	t.Helper()
	cs, err := kubernetes.NewForConfig(as)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := cs.CoreV1().ConfigMaps("").List(ctx, metav1.ListOptions{Limit: 1}); err != nil {
		t.Errorf("listing ConfigMaps in all namespaces as the install's account: %v", err)
	}
	_, err = cs.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "x"}}, metav1.CreateOptions{})
	if !apierrors.IsForbidden(err) {
		t.Errorf("creating a ConfigMap as the install's account: error = %v, want Forbidden", err)
	}
}

// tlsClient trusts the CA of verdict's self-signed certificate.
func tlsClient(t *testing.T, certFile string) *http.Client {
	t.Helper()
	pem, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatal("no certificate in " + certFile)
	}
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
}
