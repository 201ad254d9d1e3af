package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/verdict-dev/verdict/internal/testkit"
	"github.com/verdict-dev/verdict/policies"
	"github.com/verdict-dev/verdict/policies/bundle"
	"github.com/verdict-dev/verdict/policies/source"
	"github.com/verdict-dev/verdict/test/e2e/controlplane"
	"github.com/verdict-dev/verdict/webhook"
)

// TestWebhookClusterPolicies runs verdict serve with --kubeconfig: the Gatekeeper templates and
// constraints, the ValidatingAdmissionPolicies and the data.inventory it judges with come from the
// cluster, and change with it.
func TestWebhookClusterPolicies(t *testing.T) {
	env := controlplane.Start(t)
	ctx := context.Background()
	objects := newApplier(t, env)
	objects.apply(t, "gatekeeper-crd.yaml")

	// verdict serve --kubeconfig F --sync networking.k8s.io/v1/Ingress -p policies/, on loopback.
	cfg, err := clientcmd.BuildConfigFromFlags("", env.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	ingressKind := schema.GroupVersionKind{Group: "networking.k8s.io", Version: "v1", Kind: "Ingress"}
	srv := serveVerdict(t, ctx, webhook.Options{
		Policies: bundle.Options{Paths: []string{filepath.Join("testdata", "cluster", "policies")}},
		Cluster:  &source.ClusterOptions{Config: cfg, Sync: []schema.GroupVersionKind{ingressKind}, Rediscover: time.Second},
	})
	testkit.WaitFor(t, 30*time.Second, "/readyz once the cache has synced", func() bool {
		code, body := httpGet("http://" + srv.health + "/readyz?verbose")
		return code == http.StatusOK && strings.Contains(body, "[+]cluster-policies ok")
	})

	ns := "e2e-cluster"
	if _, err := env.Clientset.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	registerValidating(t, env.Clientset, ns, "https://"+srv.addr+"/validate", srv.caBundle)
	deployments := env.Clientset.AppsV1().Deployments(ns)
	denial := func(labels map[string]string) string {
		_, err := deployments.Create(ctx, deployment("probe", labels, 1), metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		if err == nil {
			return ""
		}
		return err.Error()
	}
	testkit.WaitFor(t, 30*time.Second, "the webhook to judge requests with the policy files", func() bool {
		return strings.Contains(denial(map[string]string{"frozen": "yes"}), "the namespace is frozen")
	})

	t.Run("a constraint created in the cluster denies with its message", func(t *testing.T) {
		objects.apply(t, "team-label.yaml") // the template, and the constraint kind Gatekeeper would make
		objects.apply(t, "team-label-constraint.yaml")
		want := `admission webhook "validate.verdict.dev" denied the request: [deployments-need-a-team] Deployment probe needs a team label`
		testkit.WaitFor(t, 30*time.Second, "the constraint to be in force", func() bool { return strings.Contains(denial(nil), want) })
		if msg := denial(map[string]string{"team": "a"}); msg != "" {
			t.Errorf("a Deployment with a team label: %s", msg)
		}
		if msg := denial(map[string]string{"team": "a", "frozen": "yes"}); !strings.Contains(msg, "the namespace is frozen") {
			t.Errorf("the policy files are no longer judged beside the cluster's: %q", msg)
		}
	})

	t.Run("an updated constraint takes effect", func(t *testing.T) {
		constraint := objects.read(t, "team-label-constraint.yaml")[0]
		if err := unstructured.SetNestedField(constraint.Object, "owner", "spec", "parameters", "label"); err != nil {
			t.Fatal(err)
		}
		objects.put(t, constraint)
		testkit.WaitFor(t, 30*time.Second, "the updated constraint", func() bool {
			return strings.Contains(denial(map[string]string{"team": "a"}), "[deployments-need-a-team] Deployment probe needs a owner label")
		})
	})

	t.Run("a deleted constraint no longer judges", func(t *testing.T) {
		constraint := objects.read(t, "team-label-constraint.yaml")[0]
		objects.remove(t, constraint)
		testkit.WaitFor(t, 30*time.Second, "the constraint to be gone", func() bool { return denial(nil) == "" })
	})

	t.Run("data.inventory comes from the cache of --sync kinds", func(t *testing.T) {
		template := objects.read(t, filepath.Join("..", "..", "..", "testdata", "gatekeeper-library", "general", "uniqueingresshost", "template.yaml"))
		objects.put(t, template...)
		objects.apply(t, "unique-ingress-host.yaml")
		objects.apply(t, "unique-ingress-host-constraint.yaml")
		ingresses := env.Clientset.NetworkingV1().Ingresses(ns)
		if _, err := ingresses.Create(ctx, ingress("first", "shop.example.com"), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		want := "[unique-ingress-host] ingress host conflicts with an existing ingress <shop.example.com>"
		testkit.WaitFor(t, 30*time.Second, "a second Ingress for the host to be denied", func() bool {
			_, err := ingresses.Create(ctx, ingress("second", "shop.example.com"), metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
			return err != nil && strings.Contains(err.Error(), want)
		})
		if _, err := ingresses.Create(ctx, ingress("other", "other.example.com"), metav1.CreateOptions{}); err != nil {
			t.Errorf("an Ingress for another host: %v", err)
		}
	})

	t.Run("a ValidatingAdmissionPolicy in the cluster is in verdict's set", func(t *testing.T) {
		before := srv.Policies().Current().Policies
		objects.apply(t, "vap.yaml")
		testkit.WaitFor(t, 30*time.Second, "the policy in verdict's set", func() bool { return srv.Policies().Current().Policies == before+1 })
		if skipped := srv.Policies().Skipped(); len(skipped) != 0 {
			t.Errorf("cluster policies left out: %q", skipped)
		}
		// The API server enforces it natively as well, so the denial may come from either.
		if msg := denial(map[string]string{"team": "a"}); msg != "" {
			t.Errorf("a compliant Deployment: %s", msg)
		}
		_, err := deployments.Create(ctx, deployment("big", nil, 11), metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		if err == nil || !strings.Contains(err.Error(), "at most 10 replicas") {
			t.Errorf("a Deployment of 11 replicas: error = %v", err)
		}
	})

	t.Run("params come from the cache", func(t *testing.T) {
		paramsNS := "e2e-params"
		if _, err := env.Clientset.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: paramsNS}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		limits := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "limits", Namespace: paramsNS}, Data: map[string]string{"max": "3"}}
		if _, err := env.Clientset.CoreV1().ConfigMaps(paramsNS).Create(ctx, limits, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		objects.apply(t, "params.yaml")
		want := "replicas must be at most 3"
		testkit.WaitFor(t, 30*time.Second, "verdict to judge with the ConfigMap's params", func() bool {
			return slices.Contains(judge(t, srv.Server, paramsNS, 5), want)
		})
		limits.Data["max"] = "9"
		if _, err := env.Clientset.CoreV1().ConfigMaps(paramsNS).Update(ctx, limits, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		testkit.WaitFor(t, 30*time.Second, "verdict to judge with the changed params", func() bool { return len(judge(t, srv.Server, paramsNS, 5)) == 0 })
		if got := judge(t, srv.Server, paramsNS, 10); !slices.Contains(got, "replicas must be at most 9") {
			t.Errorf("10 replicas: findings %q", got)
		}
	})
}

// judge asks verdict's policy set alone (not the API server, which enforces admission policies
// itself) about the creation of a Deployment.
func judge(t *testing.T, srv *webhook.Server, ns string, replicas int32) []string {
	t.Helper()
	obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(deployment("judged", nil, replicas))
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{Object: obj}
	u.SetAPIVersion("apps/v1")
	u.SetKind("Deployment")
	u.SetNamespace(ns)
	out := srv.Policies().Current().Validate(context.Background(), &policies.Request{
		Kind:     schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"},
		Resource: schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"},
		Name:     "judged", Namespace: ns, Operation: policies.Create, Object: u,
	})
	var msgs []string
	for _, f := range out.Findings {
		msgs = append(msgs, f.Message)
	}
	for _, err := range out.Errors {
		msgs = append(msgs, "error: "+err.Error())
	}
	return msgs
}

func ingress(name, host string) *networkingv1.Ingress {
	prefix := networkingv1.PathTypePrefix
	return &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{{
			Host: host,
			IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{{
				Path: "/", PathType: &prefix,
				Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "web", Port: networkingv1.ServiceBackendPort{Number: 80}}},
			}}}},
		}}},
	}
}

// registerValidating registers url as the validating webhook for Deployments and Ingresses in ns.
func registerValidating(t *testing.T, client kubernetes.Interface, ns, url string, caBundle []byte) {
	t.Helper()
	fail, none := admissionregistrationv1.Fail, admissionregistrationv1.SideEffectClassNone
	timeout := int32(10)
	_, err := client.AdmissionregistrationV1().ValidatingWebhookConfigurations().Create(context.Background(), &admissionregistrationv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: "verdict"},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{{
			Name: "validate.verdict.dev", ClientConfig: admissionregistrationv1.WebhookClientConfig{URL: &url, CABundle: caBundle},
			Rules: []admissionregistrationv1.RuleWithOperations{{
				Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update},
				Rule:       admissionregistrationv1.Rule{APIGroups: []string{"apps", "networking.k8s.io"}, APIVersions: []string{"v1"}, Resources: []string{"deployments", "ingresses"}},
			}},
			FailurePolicy: &fail, SideEffects: &none, TimeoutSeconds: &timeout, AdmissionReviewVersions: []string{"v1"},
			NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": ns}},
		}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
}

func httpGet(url string) (int, string) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// applier creates, updates and deletes objects of any kind from manifests, as kubectl apply does.
type applier struct {
	client dynamic.Interface
	mapper *restmapper.DeferredDiscoveryRESTMapper
}

func newApplier(t *testing.T, env *controlplane.Env) *applier {
	t.Helper()
	client, err := dynamic.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	return &applier{client: client, mapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(env.Clientset.Discovery()))}
}

// read decodes the manifests of a file of testdata/cluster.
func (a *applier) read(t *testing.T, name string) []*unstructured.Unstructured {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "cluster", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []*unstructured.Unstructured
	dec := yaml.NewYAMLOrJSONDecoder(f, 4096)
	for {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); err == io.EOF {
			return out
		} else if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(u.Object) > 0 {
			out = append(out, u)
		}
	}
}

func (a *applier) apply(t *testing.T, name string) { t.Helper(); a.put(t, a.read(t, name)...) }

// put applies the objects server-side, and waits for a CRD among them to be established.
func (a *applier) put(t *testing.T, objs ...*unstructured.Unstructured) {
	t.Helper()
	for _, obj := range objs {
		res := a.resource(t, obj)
		if _, err := res.Apply(context.Background(), obj.GetName(), obj, metav1.ApplyOptions{FieldManager: "e2e", Force: true}); err != nil {
			t.Fatalf("applying %s %q: %v", obj.GetKind(), obj.GetName(), err)
		}
		if obj.GetKind() == "CustomResourceDefinition" {
			testkit.WaitFor(t, 30*time.Second, "CRD "+obj.GetName()+" to be established", func() bool {
				crd, err := res.Get(context.Background(), obj.GetName(), metav1.GetOptions{})
				if err != nil {
					return false
				}
				conditions, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
				for _, c := range conditions {
					c, _ := c.(map[string]any)
					if c["type"] == "Established" && c["status"] == "True" {
						return true
					}
				}
				return false
			})
			a.mapper.Reset()
		}
	}
}

func (a *applier) remove(t *testing.T, obj *unstructured.Unstructured) {
	t.Helper()
	if err := a.resource(t, obj).Delete(context.Background(), obj.GetName(), metav1.DeleteOptions{}); err != nil {
		t.Fatalf("deleting %s %q: %v", obj.GetKind(), obj.GetName(), err)
	}
}

func (a *applier) resource(t *testing.T, obj *unstructured.Unstructured) dynamic.ResourceInterface {
	t.Helper()
	gvk := obj.GroupVersionKind()
	m, err := a.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		a.mapper.Reset()
		if m, err = a.mapper.RESTMapping(gvk.GroupKind(), gvk.Version); err != nil {
			t.Fatal(fmt.Errorf("%s: %w", gvk, err))
		}
	}
	if ns := obj.GetNamespace(); ns != "" {
		return a.client.Resource(m.Resource).Namespace(ns)
	}
	return a.client.Resource(m.Resource)
}
