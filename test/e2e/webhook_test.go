package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/verdict-dev/verdict/internal/testkit"
	"github.com/verdict-dev/verdict/policies/bundle"
	"github.com/verdict-dev/verdict/test/e2e/controlplane"
	"github.com/verdict-dev/verdict/webhook"
)

// warnings collects the warnings the API server sends a client.
type warnings struct {
	mu   sync.Mutex
	list []string
}

func (w *warnings) HandleWarningHeader(_ int, _ string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.list = append(w.list, text)
}

func (w *warnings) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.list
	w.list = nil
	return out
}

// TestWebhook registers verdict serve with a real kube-apiserver as validating and mutating webhooks
// over TLS, and uses the cluster as a user would.
func TestWebhook(t *testing.T) {
	env := controlplane.Start(t)
	ctx := context.Background()

	// verdict serve, on loopback, with a self-signed certificate whose CA the API server is given.
	dir := t.TempDir()
	policyDir := filepath.Join(dir, "policies")
	if err := os.MkdirAll(policyDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"policies.yaml", "configmaps.rego"} {
		copyFile(t, filepath.Join("testdata", "webhook", f), filepath.Join(policyDir, f))
	}
	srv := serveVerdict(t, ctx, webhook.Options{Policies: bundle.Options{Paths: []string{policyDir}}})
	register(t, env.Clientset, "https://"+srv.addr, srv.caBundle)

	collected := &warnings{}
	cfg := rest.CopyConfig(env.Config)
	cfg.WarningHandler = collected
	client := kubernetes.NewForConfigOrDie(cfg)
	ns := "e2e"
	if _, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	deployments := client.AppsV1().Deployments(ns)

	// The API server applies webhook configurations a moment after they are created.
	testkit.WaitFor(t, 30*time.Second, "the webhook to judge requests", func() bool {
		_, err := deployments.Create(ctx, deployment("probe", nil, 1), metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		return err != nil && strings.Contains(err.Error(), "must have an owner label")
	})

	t.Run("a violating Deployment is refused with the policy's message", func(t *testing.T) {
		_, err := deployments.Create(ctx, deployment("no-owner", nil, 1), metav1.CreateOptions{})
		want := `admission webhook "validate.verdict.dev" denied the request: ValidatingAdmissionPolicy 'require-owner' with binding 'require-owner' denied request: deployment no-owner must have an owner label`
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("error = %v\nwant it to contain %s", err, want)
		}
	})

	t.Run("a compliant Deployment is created, mutated, and warned about", func(t *testing.T) {
		collected.take()
		created, err := deployments.Create(ctx, deployment("web", map[string]string{"owner": "me"}, 3), metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		stored, err := deployments.Get(ctx, created.Name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if stored.Labels["team"] != "platform" || stored.Labels["owner"] != "me" {
			t.Errorf("stored labels = %v, want the mutating policy's team=platform beside owner=me", stored.Labels)
		}
		got := strings.Join(collected.take(), "\n")
		if !strings.Contains(got, "Validation failed for ValidatingAdmissionPolicy 'few-replicas' with binding 'few-replicas': more than 2 replicas costs money") {
			t.Errorf("warnings = %q, want the Warn policy's", got)
		}
	})

	t.Run("a dry run is judged and stores nothing", func(t *testing.T) {
		_, err := deployments.Create(ctx, deployment("dry-no-owner", nil, 1), metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		if err == nil || !strings.Contains(err.Error(), "must have an owner label") {
			t.Fatalf("dry run of a violating Deployment: error = %v", err)
		}
		dry, err := deployments.Create(ctx, deployment("dry-ok", map[string]string{"owner": "me"}, 1), metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		if err != nil {
			t.Fatal(err)
		}
		if dry.Labels["team"] != "platform" {
			t.Errorf("dry-run answer labels = %v, want the mutation", dry.Labels)
		}
		if _, err := deployments.Get(ctx, "dry-ok", metav1.GetOptions{}); err == nil {
			t.Error("a dry-run Deployment was stored")
		}
	})

	t.Run("a plain Rego policy judges in the cluster as in CI", func(t *testing.T) {
		_, err := client.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: "creds"}, Data: map[string]string{"db": "Password=hunter2"}}, metav1.CreateOptions{})
		if err == nil || !strings.Contains(err.Error(), "[k8s.configmaps] ConfigMap creds: key db looks like it holds a password") {
			t.Fatalf("error = %v", err)
		}
	})

	t.Run("kubectl sees the denial", func(t *testing.T) {
		manifest := filepath.Join(dir, "kubectl.yaml")
		if err := os.WriteFile(manifest, []byte(`apiVersion: apps/v1
kind: Deployment
metadata: {name: from-kubectl, namespace: e2e}
spec:
  selector: {matchLabels: {app: k}}
  template:
    metadata: {labels: {app: k}}
    spec: {containers: [{name: c, image: "registry.example.com/k:1"}]}
`), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := env.Kubectl(t, "apply", "-f", manifest).CombinedOutput()
		if err == nil || !strings.Contains(string(out), "deployment from-kubectl must have an owner label") {
			t.Fatalf("kubectl apply: %v\n%s", err, out)
		}
	})

	t.Run("a policy reloaded mid-test takes effect", func(t *testing.T) {
		gen := srv.Policies().Generation()
		data, err := os.ReadFile(filepath.Join(policyDir, "policies.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		changed := strings.Replace(string(data), "'owner' in object.metadata.labels", "'owner' in object.metadata.labels && 'tier' in object.metadata.labels", 1)
		tmp := filepath.Join(policyDir, ".policies.yaml.tmp")
		if err := os.WriteFile(tmp, []byte(changed), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(policyDir, "policies.yaml")); err != nil {
			t.Fatal(err)
		}
		testkit.WaitFor(t, 30*time.Second, "the reload", func() bool { return srv.Policies().Generation() > gen })
		if _, err := deployments.Create(ctx, deployment("no-tier", map[string]string{"owner": "me"}, 1), metav1.CreateOptions{}); err == nil ||
			!strings.Contains(err.Error(), "must have an owner label") {
			t.Fatalf("after the reload a Deployment without tier: error = %v", err)
		}
		if _, err := deployments.Create(ctx, deployment("with-tier", map[string]string{"owner": "me", "tier": "web"}, 1), metav1.CreateOptions{}); err != nil {
			t.Fatalf("after the reload a Deployment with owner and tier: %v", err)
		}
	})
}

func register(t *testing.T, client kubernetes.Interface, url string, caBundle []byte) {
	t.Helper()
	ctx := context.Background()
	fail, none := admissionregistrationv1.Fail, admissionregistrationv1.SideEffectClassNone
	timeout := int32(10)
	validateURL, mutateURL := url+"/validate", url+"/mutate"
	rules := []admissionregistrationv1.RuleWithOperations{{
		Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update},
		Rule:       admissionregistrationv1.Rule{APIGroups: []string{"apps", ""}, APIVersions: []string{"v1"}, Resources: []string{"deployments", "configmaps"}},
	}}
	nsSelector := &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "e2e"}}
	_, err := client.AdmissionregistrationV1().ValidatingWebhookConfigurations().Create(ctx, &admissionregistrationv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: "verdict"},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{{
			Name: "validate.verdict.dev", ClientConfig: admissionregistrationv1.WebhookClientConfig{URL: &validateURL, CABundle: caBundle},
			Rules: rules, FailurePolicy: &fail, SideEffects: &none, TimeoutSeconds: &timeout,
			AdmissionReviewVersions: []string{"v1"}, NamespaceSelector: nsSelector,
		}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	never := admissionregistrationv1.NeverReinvocationPolicy
	_, err = client.AdmissionregistrationV1().MutatingWebhookConfigurations().Create(ctx, &admissionregistrationv1.MutatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: "verdict"},
		Webhooks: []admissionregistrationv1.MutatingWebhook{{
			Name: "mutate.verdict.dev", ClientConfig: admissionregistrationv1.WebhookClientConfig{URL: &mutateURL, CABundle: caBundle},
			Rules: rules, FailurePolicy: &fail, SideEffects: &none, TimeoutSeconds: &timeout, ReinvocationPolicy: &never,
			AdmissionReviewVersions: []string{"v1"}, NamespaceSelector: nsSelector,
		}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
}

func deployment(name string, labels map[string]string, replicas int32) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "registry.example.com/" + name + ":1"}}},
			},
		},
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// verdictServer is verdict serve on loopback, with a self-signed certificate for 127.0.0.1.
type verdictServer struct {
	*webhook.Server
	addr, health string // of the webhooks and of the health probes
	cert         string // the certificate file, which is its own CA
	caBundle     []byte // the certificate, for a webhook configuration's caBundle
}

// serveVerdict runs verdict serve with opts (its addresses, certificate and log set here) until the
// test ends, and fails the test if it stops with an error.
func serveVerdict(t *testing.T, ctx context.Context, opts webhook.Options) *verdictServer {
	t.Helper()
	cert, key, err := webhook.SelfSigned(filepath.Join(t.TempDir(), "certs"), []string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	caBundle, err := os.ReadFile(cert)
	if err != nil {
		t.Fatal(err)
	}
	v := &verdictServer{addr: testkit.FreeAddr(t), health: testkit.FreeAddr(t), cert: cert, caBundle: caBundle}
	opts.Addr, opts.HealthAddr, opts.CertFile, opts.KeyFile, opts.Log = v.addr, v.health, cert, key, logr.Discard()
	srv, err := webhook.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	v.Server = srv
	ctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("verdict serve: %v", err)
		}
	})
	return v
}
