package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	"github.com/verdict-dev/verdict/manifest"
)

// applyAsAdmin creates the objects of a manifest as the administrator.
func applyAsAdmin(t *testing.T, dyn dynamic.Interface, data []byte) {
	t.Helper()
	set := manifest.Decode("admin.yaml", data)
	if err := set.Err(); err != nil {
		t.Fatal(err)
	}
	for _, d := range set.Documents {
		res, ok := simResources.Lookup(d.Object.GroupVersionKind())
		if !ok {
			t.Fatalf("%s: unknown kind", d.Describe())
		}
		if _, err := dyn.Resource(res.GVR).Namespace(d.Object.GetNamespace()).Create(t.Context(), d.Object, metav1.CreateOptions{}); err != nil {
			t.Fatalf("creating %s: %v", d.Describe(), err)
		}
	}
}

// waitPolicies waits until the API server enforces the admission policies: a dry-run ConfigMap
// with the forbidden key is refused, one without it is labelled.
func waitPolicies(t *testing.T, dyn dynamic.Interface) {
	t.Helper()
	cm := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "sim-sentinel", "namespace": "default"}, "data": map[string]any{"forbidden": "x"}}}
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := dyn.Resource(nsGVR.GroupVersion().WithResource("configmaps")).Namespace("default").Create(t.Context(), cm, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		if apierrors.IsInvalid(err) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the ValidatingAdmissionPolicies are not enforced after 30s (last: %v)", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// and the MutatingAdmissionPolicies: a dry-run ConfigMap gets the label.
	delete(cm.Object, "data")
	for {
		got, err := dyn.Resource(nsGVR.GroupVersion().WithResource("configmaps")).Namespace("default").Create(t.Context(), cm, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		if err == nil && got.GetLabels()["mutated"] == "yes" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the MutatingAdmissionPolicies are not enforced after 30s (last: %v)", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// simResources are the built-in kinds and the test's Widgets.
var simResources = func() *manifest.Resources {
	r := manifest.BuiltinResources()
	set := manifest.Decode("crd.yaml", []byte(simWidgetCRD))
	if err := set.Err(); err != nil {
		panic(err)
	}
	if err := r.AddCRD(set.Documents[0].Object); err != nil {
		panic(err)
	}
	return r
}()

// simObject is one object of a session.
type simObject struct{ *unstructured.Unstructured }

func (o simObject) isNamespace() bool { return o.GetKind() == "Namespace" }

func (o simObject) ref() objectRef {
	res, ok := simResources.Lookup(o.GroupVersionKind())
	if !ok {
		panic("unknown kind " + o.GetKind())
	}
	return objectRef{gvr: res.GVR, namespace: o.GetNamespace(), name: o.GetName()}
}

// simSession is one user's kubectl apply: the user and the objects, one file each.
type simSession struct {
	index      int
	user       string
	groups     []string
	serverSide bool
	objects    []simObject
}

// write writes each object to a file of its own, in order, and returns their paths.
func (s *simSession) write(t *testing.T, dir string) []string {
	t.Helper()
	sub := filepath.Join(dir, fmt.Sprintf("s%d", s.index))
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	var paths []string
	for i, o := range s.objects {
		data, err := yaml.Marshal(o.Object)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(sub, fmt.Sprintf("%02d-%s.yaml", i, strings.ToLower(o.GetKind())))
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	return paths
}

// session draws session k: a user (with groups, sometimes) and the objects it applies.
func (g *simGen) session(k int) *simSession {
	s := &simSession{index: k}
	switch n := g.r.IntN(10); {
	case n < 3:
		s.user = "paula"
	case n < 4:
		s.user = "olga"
	case n < 5:
		s.user, s.groups = "root", []string{"system:masters"}
	case n < 6:
		s.user, s.groups = "erin", []string{"dev"}
	default:
		s.user = g.parity.Pick(parityUsers[:8])
	}
	s.serverSide = g.r.IntN(3) == 0
	var created []string // namespaces of this session
	for i := range *simulateObjects {
		s.objects = append(s.objects, g.object(k, i, &created, s.objects))
	}
	g.history = append(g.history, s.objects...)
	if g.r.IntN(4) == 0 {
		s.objects = append(s.objects, noGreenPolicy(k)...) // never again in the middle of a session
	}
	return s
}

// noGreenPolicy is a ValidatingAdmissionPolicy and its binding that a session applies last: the
// API server's policy informers put it in force within a second, so for the sessions after it
// (where simulate finds it among --existing), not for the rest of its own apply. It refuses green
// ConfigMaps, except those the world's sim-no-forbidden-key refuses, so that two policies never
// refuse the same object (the API server would name either, by its informer's order).
func noGreenPolicy(k int) []simObject {
	policy := map[string]any{"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy", "metadata": meta("", "sim-no-green", nil),
		"spec": map[string]any{"failurePolicy": "Fail",
			"matchConstraints": map[string]any{"resourceRules": []any{map[string]any{"apiGroups": []any{""}, "apiVersions": []any{"v1"},
				"operations": []any{"CREATE", "UPDATE"}, "resources": []any{"configmaps"}}}},
			"validations": []any{map[string]any{
				"expression": "!has(object.data) || !('color' in object.data) || object.data.color != 'green' || 'forbidden' in object.data",
				"message":    fmt.Sprintf("no green ConfigMaps (since session %d)", k)}}}}
	binding := map[string]any{"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicyBinding", "metadata": meta("", "sim-no-green", nil),
		"spec": map[string]any{"policyName": "sim-no-green", "validationActions": []any{"Deny"}}}
	return []simObject{{&unstructured.Unstructured{Object: toMap(policy)}}, {&unstructured.Unstructured{Object: toMap(binding)}}}
}

// object draws object i of session k.
// An object of an earlier session comes again, perhaps changed, one time in six: applied
// client-side then server-side (or the other way), which hands fields between managers.
func (g *simGen) object(k, i int, created *[]string, before []simObject) simObject {
	if len(g.history) > 0 && g.r.IntN(6) == 0 {
		return g.changed(g.history[g.r.IntN(len(g.history))])
	}
	ns := g.namespace(*created)
	name := func(kind string) string { return fmt.Sprintf("s%d-%s-%d", k, kind, g.r.IntN(3)) }
	var obj map[string]any
	switch n := g.r.IntN(130); {
	case n >= 100 && n < 110:
		obj = map[string]any{"apiVersion": "example.com/v1", "kind": "Widget", "metadata": meta(ns, name("widget"), nil), "spec": g.widgetSpec()}
		if g.r.IntN(5) == 0 {
			obj["status"] = map[string]any{"ready": true}
		}
	// One ResourceQuota and one LimitRange per namespace, named as the world's of ns-b: of two
	// quotas or LimitRanges of a namespace that both refuse a request (or both default a
	// resource), kube-apiserver's plugins name (or apply) the one their informer lists first, in
	// the order of a Go map, so that the API server's answer is not the same twice.
	case n >= 110 && n < 115:
		obj = map[string]any{"apiVersion": "v1", "kind": "ResourceQuota", "metadata": meta(ns, "sim-quota", nil), "spec": map[string]any{"hard": g.quotaHard()}}
	case n >= 120 && n < 125:
		// Both minAvailable and maxUnavailable, one time in four: refused by the registry's validation.
		spec := map[string]any{"selector": map[string]any{"matchLabels": map[string]any{"app": "web"}}, "minAvailable": g.parity.Pick([]string{"1", "50%"})}
		if g.r.IntN(4) == 0 {
			spec["maxUnavailable"] = int64(1)
		}
		obj = map[string]any{"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": meta(ns, name("pdb"), nil), "spec": spec}
	case n >= 125:
		// An unknown path type, one time in four.
		pathType := g.parity.Pick([]string{"Prefix", "Exact", "ImplementationSpecific"})
		if g.r.IntN(4) == 0 {
			pathType = "Regex"
		}
		obj = map[string]any{"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": meta(ns, name("ing"), nil), "spec": map[string]any{
			"rules": []any{map[string]any{"host": "web.example.com", "http": map[string]any{"paths": []any{map[string]any{
				"path": "/", "pathType": pathType, "backend": map[string]any{"service": map[string]any{"name": "web", "port": map[string]any{"number": int64(80)}}}}}}}}}}
	case n >= 115:
		// A maximum per pod, no defaults.
		obj = map[string]any{"apiVersion": "v1", "kind": "LimitRange", "metadata": meta(ns, "sim-limits", nil), "spec": map[string]any{"limits": []any{map[string]any{
			"type": "Pod", "max": map[string]any{"memory": g.parity.Pick([]string{"1Gi", "200Mi"})}}}}}
	case n < 10:
		nsName := fmt.Sprintf("s%d-ns-%d", k, i)
		*created = append(*created, nsName)
		obj = map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": meta("", nsName, g.podSecurityLabels())}
	case n < 28:
		data := map[string]any{"color": g.parity.Pick([]string{"red", "blue"})}
		if g.r.IntN(5) == 0 {
			data["forbidden"] = "yes"
		}
		cm := name("cm")
		if g.r.IntN(4) == 0 {
			cm = "shared" // the world's, another manager's
		}
		obj = map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta(ns, cm, nil), "data": data}
	case n < 35:
		data := map[string]any{"a": "YQ=="}
		if g.r.IntN(2) == 0 {
			data["b"] = "Yg==" // which sim-secret-label reads
		}
		obj = map[string]any{"apiVersion": "v1", "kind": "Secret", "metadata": meta(ns, name("secret"), nil), "data": data}
	case n < 50:
		obj = map[string]any{"apiVersion": "v1", "kind": "Pod", "metadata": meta(ns, name("pod"), nil), "spec": g.podSpec()}
	case n < 62:
		labels := map[string]any{"app": "web"}
		obj = map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta(ns, name("deploy"), nil), "spec": map[string]any{
			"replicas": int64(1 + g.r.IntN(5)), "selector": map[string]any{"matchLabels": labels},
			"template": map[string]any{"metadata": map[string]any{"labels": labels}, "spec": g.podSpec()}}}
	case n < 72:
		obj = rbacObject("Role", meta(ns, name("role"), nil), map[string]any{"rules": g.parity.Rules(true)})
	case n < 84:
		obj = rbacObject("RoleBinding", meta(ns, name("rb"), nil), map[string]any{"roleRef": g.roleRef(true), "subjects": g.parity.Subjects(ns)})
	case n < 89:
		obj = rbacObject("ClusterRole", meta("", name("cr"), nil), map[string]any{"rules": g.parity.Rules(true)})
	case n < 94:
		obj = rbacObject("ClusterRoleBinding", meta("", name("crb"), nil), map[string]any{"roleRef": g.roleRef(false), "subjects": g.parity.Subjects("")})
	default:
		if len(before) > 0 {
			return g.changed(before[g.r.IntN(len(before))])
		}
		obj = map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta(ns, name("cm"), nil)}
	}
	return simObject{&unstructured.Unstructured{Object: toMap(obj)}}
}

// changed is an object applied before, again: as it was, or with a value changed or a field
// left out (which a server-side apply removes when its manager alone owns it), or with a field
// another manager owns by default (a conflict for a server-side apply).
func (g *simGen) changed(o simObject) simObject {
	again := o.DeepCopy()
	switch again.GetKind() {
	case "ConfigMap":
		switch g.r.IntN(4) {
		case 0, 1:
			_ = unstructured.SetNestedField(again.Object, "green", "data", "color")
		case 2:
			unstructured.RemoveNestedField(again.Object, "data", "color")
		}
	case "Deployment":
		switch g.r.IntN(4) {
		case 0:
			_ = unstructured.SetNestedField(again.Object, int64(1+g.r.IntN(5)), "spec", "replicas")
		case 1:
			_ = unstructured.SetNestedField(again.Object, int64(4), "spec", "revisionHistoryLimit")
		case 2:
			unstructured.RemoveNestedField(again.Object, "spec", "replicas")
		}
	}
	return simObject{again}
}

// widgetSpec draws a Widget's spec: within or beyond the CRD's maximum size, red with an odd or an
// even size (the CEL rule), and sometimes a field the schema does not declare.
func (g *simGen) widgetSpec() map[string]any {
	sizes := []int64{1, 2, 3, 4, 12}
	spec := map[string]any{"size": sizes[g.r.IntN(len(sizes))]}
	if g.r.IntN(3) == 0 {
		spec["color"] = g.parity.Pick([]string{"red", "green"})
	}
	if g.r.IntN(6) == 0 {
		spec["shape"] = "round"
	}
	return spec
}

// quotaHard draws a ResourceQuota's hard limits, of objects the sessions make.
func (g *simGen) quotaHard() map[string]any {
	hard := map[string]any{}
	for _, r := range []string{"configmaps", "pods", "count/secrets", "count/widgets.example.com"} {
		if g.r.IntN(2) == 0 {
			hard[r] = fmt.Sprint(g.r.IntN(3))
		}
	}
	if len(hard) == 0 {
		hard["configmaps"] = "1"
	}
	return hard
}

// namespace draws where a namespaced object goes: a namespace of the world, one made earlier in
// the session, default, or one that does not exist.
func (g *simGen) namespace(created []string) string {
	switch n := g.r.IntN(10); {
	case n < 5:
		return g.parity.Pick(g.parity.Namespaces)
	case n < 7 && len(created) > 0:
		return created[g.r.IntN(len(created))]
	case n < 8:
		return "default"
	case n < 9:
		return "ns-missing"
	}
	return "ns-a"
}

// podSpec draws a pod spec that meets Pod Security's restricted, baseline or no level, with an
// image the warning policy warns of, sometimes.
func (g *simGen) podSpec() map[string]any {
	image := "nginx:1.27"
	if g.r.IntN(4) == 0 {
		image = "busybox:latest"
	}
	c := map[string]any{"name": "c", "image": image}
	if g.r.IntN(5) == 0 {
		memory := g.parity.Pick([]string{"512Mi", "2Gi"}) // within and above ns-b's LimitRange maximum
		c["resources"] = map[string]any{"limits": map[string]any{"memory": memory}}
	}
	spec := map[string]any{"containers": []any{c}}
	switch g.r.IntN(3) {
	case 0: // restricted
		spec["securityContext"] = map[string]any{"runAsNonRoot": true, "seccompProfile": map[string]any{"type": "RuntimeDefault"}}
		c["securityContext"] = map[string]any{"allowPrivilegeEscalation": false, "capabilities": map[string]any{"drop": []any{"ALL"}}}
	case 1: // privileged
		if g.r.IntN(2) == 0 {
			spec["hostNetwork"] = true
		} else {
			c["securityContext"] = map[string]any{"privileged": true}
		}
	}
	return spec
}

// roleRef draws the role of a binding: a world ClusterRole, a bootstrap one, a missing one, or (for
// a RoleBinding) a Role of the world.
func (g *simGen) roleRef(namespaced bool) rbacv1.RoleRef {
	ref := rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole"}
	switch n := g.r.IntN(10); {
	case n < 3:
		ref.Name = g.parity.Pick([]string{"view", "edit", "admin", "cluster-admin"})
	case n < 4:
		ref.Name = "missing"
	case n < 6 && namespaced:
		ref.Kind, ref.Name = "Role", fmt.Sprintf("role-%d", g.r.IntN(7))
	default:
		ref.Name = fmt.Sprintf("cr-%d", g.r.IntN(6))
	}
	return ref
}

func meta(namespace, name string, labels map[string]string) map[string]any {
	m := map[string]any{"name": name}
	if namespace != "" {
		m["namespace"] = namespace
	}
	if len(labels) > 0 {
		l := map[string]any{}
		for k, v := range labels {
			l[k] = v
		}
		m["labels"] = l
	}
	return m
}

func rbacObject(kind string, metadata map[string]any, fields map[string]any) map[string]any {
	obj := map[string]any{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind, "metadata": metadata}
	for k, v := range fields {
		obj[k] = v
	}
	return obj
}

// toMap turns typed values (rules, subjects) into plain JSON values.
func toMap(obj map[string]any) map[string]any {
	data, err := yaml.Marshal(obj)
	if err != nil {
		panic(err)
	}
	out := map[string]any{}
	if err := yaml.Unmarshal(data, &out); err != nil {
		panic(err)
	}
	return out
}
