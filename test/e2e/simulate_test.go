package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/verdict-dev/verdict/rbacsim"
	"github.com/verdict-dev/verdict/simulate"
	"github.com/verdict-dev/verdict/test/e2e/controlplane"
)

var (
	simulateSeed     = flag.Uint64("simulate-seed", 3, "seed of the simulate differential test's world and applies")
	simulateSessions = flag.Int("simulate-sessions", 12, "sessions (one user's kubectl apply each) of the simulate differential test")
	simulateDump     = flag.String("simulate-dump", "", "write the messages of a differing object to this path .kube and .simulate, for diff")
	simulateObjects  = flag.Int("simulate-objects", 10, "objects each session of the simulate differential test applies")
)

// TestSimulateParity applies random manifests as impersonated users with the real kubectl apply
// --as against a real kube-apiserver, object by object, and compares what happened to each object
// with verdict simulate on the same inputs (the cluster's objects before the session as --existing):
// accepted or refused, the stage, the message kubectl prints, the API server's warnings, and the
// object as stored (read back at once, without what the API server makes up for each write).
func TestSimulateParity(t *testing.T) {
	kubectl, err := controlplane.BuiltKubectl() // kubectl of the control plane's release, whose wording is compared
	if err != nil {
		if controlplane.InCI() {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	start := time.Now()
	// A default kube-apiserver runs ServiceAccount admission, which envtest turns off.
	env := controlplane.Start(t, controlplane.WithAPIServerFlags(map[string]string{"disable-admission-plugins": ""}))
	cs := fastClient(t, env.Config)
	dyn, err := dynamic.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	env.StartAggregation(t)
	dir := t.TempDir()
	g := newSimGen(*simulateSeed)
	w := g.world(t, cs, dyn, dir)
	setup := time.Since(start)

	var compared, refused, stored, serverSideUpdates, conflicts, diffs int
	stages, kinds := map[string]int{}, map[string]int{}
	var shown []string
	tracked := w.base
	for k := range *simulateSessions {
		s := g.session(k)
		// Every third session reads what kubectl wrote as kubectl get -o yaml prints it, without
		// managed fields, whose owners simulate then assumes.
		existing := writeSnapshot(t, dyn, filepath.Join(dir, fmt.Sprintf("s%d-existing.yaml", k)), tracked, k%3 == 2)
		paths := s.write(t, dir)
		real := make([]applied, len(paths))
		for i, p := range paths {
			real[i] = kubectlApply(t, env, kubectl, dir, p, s)
			if real[i].outcome != "refused" {
				real[i].stored = readBack(t, dyn, s.objects[i].ref())
			}
			if real[i].outcome == "created" || real[i].outcome == "serverside-applied" {
				tracked = append(tracked, s.objects[i].ref())
				if s.objects[i].isNamespace() {
					createDefaultServiceAccount(t, cs, s.objects[i].GetName())
				}
			}
		}
		quotaController(t, cs, dyn) // before the next session, as the controller would
		if policyWritten(s, real) {
			time.Sleep(2 * time.Second) // the API server's policy refresh interval is a second
		}
		// The cluster's admission policies: with -p, or (every other session) among --existing, as
		// objects the cluster holds.
		existingPaths, policyPaths := []string{existing}, []string{w.policies}
		if k%2 == 1 {
			existingPaths, policyPaths = append(existingPaths, w.policies), nil
		}
		in, err := simulate.Read(t.Context(), simulate.Paths{
			Files: paths, Existing: existingPaths, RBAC: []string{w.rbac}, WithDefaults: true,
			Policies: policyPaths, As: s.user, AsGroups: s.groups, ServerSide: s.serverSide,
		})
		if err != nil {
			t.Fatalf("session %d: reading the inputs: %v", k, err)
		}
		report, err := simulate.Run(t.Context(), in.Documents, in.Options)
		if err != nil {
			t.Fatalf("session %d: %v", k, err)
		}
		for i, res := range report.Results {
			compared++
			kinds[res.Kind]++
			if real[i].outcome == "refused" {
				refused++
				stages[real[i].stage]++
			}
			if real[i].stored != nil && res.Object != nil {
				stored++
			}
			if s.serverSide && res.Outcome == simulate.Configured {
				serverSideUpdates++
			}
			if strings.Contains(real[i].message, "Apply failed with ") {
				conflicts++
			}
			if d := compareApplied(real[i], &res); d != "" {
				diffs++
				shown = append(shown, fmt.Sprintf("session %d (%s %q, server-side %v), %s %s/%s:\n%s", k, s.user, s.groups, s.serverSide, res.Kind, res.Namespace, res.Name, d))
			}
		}
	}
	t.Logf("seed %d: %d sessions, %d objects compared (%v; %d refused by kube-apiserver %v, %d stored objects compared; %d server-side applies to existing objects, %d conflicts), setup %s, total %s; %d differences",
		*simulateSeed, *simulateSessions, compared, kinds, refused, stages, stored, serverSideUpdates, conflicts, setup.Round(time.Millisecond), time.Since(start).Round(time.Millisecond), diffs)
	if diffs > 0 {
		t.Errorf("%d of %d objects differ (first %d):\n%s", diffs, compared, min(diffs, 15), strings.Join(shown[:min(diffs, 15)], "\n\n"))
	}
	if refused == 0 || refused == compared {
		t.Errorf("%d of %d objects refused: the applies do not discriminate", refused, compared)
	}
}

// policyWritten says whether the session wrote an admission policy or binding.
func policyWritten(s *simSession, real []applied) bool {
	for i, o := range s.objects {
		if o.GroupVersionKind().Group == "admissionregistration.k8s.io" && real[i].outcome != "refused" {
			return true
		}
	}
	return false
}

// applied is what happened to one object of a real or simulated apply.
type applied struct {
	outcome  string // created, configured, unchanged, refused
	stage    string
	message  string
	warnings []string
	stored   map[string]any // the object as stored, read back at once, for an accepted one
}

// kubectlApply runs kubectl apply -f path as the user, as a person would, and reads what kubectl
// printed: the outcome on standard output, or the error and the API server's warnings on standard
// error.
func kubectlApply(t *testing.T, env *controlplane.Env, kubectl, dir, path string, s *simSession) applied {
	t.Helper()
	args := []string{"--kubeconfig", env.Kubeconfig, "--cache-dir", filepath.Join(dir, "kubectl-cache"), "apply", "-f", path, "--as", s.user}
	for _, g := range s.groups {
		args = append(args, "--as-group", g)
	}
	if s.serverSide {
		args = append(args, "--server-side")
	}
	cmd := exec.CommandContext(t.Context(), kubectl, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var a applied
	var message []string
	for _, line := range strings.Split(strings.TrimRight(errOut.String(), "\n"), "\n") {
		switch w, ok := strings.CutPrefix(line, "Warning: "); {
		case ok:
			a.warnings = append(a.warnings, w)
		case err == nil && len(a.warnings) > 0:
			// A warning of kubectl's own over several lines (a migration's error, with its diff).
			a.warnings[len(a.warnings)-1] += "\n" + line
		case line != "":
			message = append(message, line)
		}
	}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		a.outcome, a.message = "refused", strings.Join(message, "\n")
		a.stage = stageOf(a.message)
	case err != nil:
		t.Fatalf("kubectl %s: %v", strings.Join(args, " "), err)
	default:
		fields := strings.Fields(out.String())
		if len(fields) == 0 {
			t.Fatalf("kubectl %s printed nothing", strings.Join(args, " "))
		}
		a.outcome = fields[len(fields)-1]
	}
	return a
}

// stageOf attributes an API server error to the stage that words it so: the test's reading of
// kube-apiserver's messages, against which simulate's own stage is compared.
func stageOf(msg string) string {
	switch {
	case strings.Contains(msg, "is attempting to grant RBAC permissions not currently held"),
		strings.Contains(msg, "must have cluster-admin privileges to use the aggregationRule"):
		return simulate.StageEscalation
	case strings.Contains(msg, "cannot get resource"), strings.Contains(msg, "cannot create resource"), strings.Contains(msg, "cannot patch resource"):
		return simulate.StageAuthorization
	case strings.Contains(msg, "violates PodSecurity"):
		return "admission:PodSecurity"
	case strings.Contains(msg, "error looking up service account"):
		return "admission:ServiceAccount"
	case strings.Contains(msg, "ValidatingAdmissionPolicy"):
		return simulate.StageValidating
	case mutatingPolicyDenial.MatchString(msg):
		return simulate.StageMutating
	case strings.Contains(msg, "exceeded quota: "), strings.Contains(msg, "failed quota: "), strings.Contains(msg, "status unknown for quota: "):
		return "admission:ResourceQuota"
	case strings.Contains(msg, " usage per Container is "), strings.Contains(msg, " usage per Pod is "):
		return "admission:LimitRanger"
	case strings.Contains(msg, " cannot be handled as a "), strings.Contains(msg, "failed to create typed patch object"),
		strings.Contains(msg, "Apply failed with "): // a server-side apply's conflict, in the merge before admission
		return simulate.StageValidation // the decoding of the object, before admission
	case missingNamespace.MatchString(msg):
		return "admission:NamespaceLifecycle"
	case strings.Contains(msg, "rbac.authorization.k8s.io") && strings.HasSuffix(msg, "not found"):
		return simulate.StageEscalation // a binding's role that the storage cannot find
	case strings.Contains(msg, " is invalid"):
		return simulate.StageValidation
	}
	return "unknown"
}

// randomNames are the names the API server makes up anew for every pod (the ServiceAccount
// plugin's token volume, kube-api-access- and five random characters): a message that shows a pod
// (a refused update's diff) is compared without them.
var randomNames = regexp.MustCompile(`(kube-api-access-)[a-z0-9]{5}`)

// rbacErrors is the list of resolution errors in an RBAC denial's reason: kube-apiserver lists them
// in the order its informers return the bindings, a Go map's, so they are compared as a set.
var rbacErrors = regexp.MustCompile(`RBAC: \[([^\]]*)\]`)

// generatedValues are what the API server makes up for each write, where a message quotes an object
// as JSON (a refused patch of a custom resource quotes the patched object): uid, resource version,
// creation time and the managed fields' times.
var generatedValues = regexp.MustCompile(`\\"(creationTimestamp|time|resourceVersion|uid)\\":\\"[^\\]*\\"`)

// normalMessage is a message without what kube-apiserver makes up or orders at random.
func normalMessage(msg string) string {
	msg = randomNames.ReplaceAllString(msg, "$1")
	msg = generatedValues.ReplaceAllString(msg, `\"$1\":\"\"`)
	return rbacErrors.ReplaceAllStringFunc(msg, func(m string) string {
		items := strings.Split(rbacErrors.FindStringSubmatch(m)[1], ", ")
		slices.Sort(items)
		return "RBAC: [" + strings.Join(items, ", ") + "]"
	})
}

// mutatingPolicyDenial is the MutatingAdmissionPolicy plugin's refusal (a ValidatingAdmissionPolicy's
// names its kind).
var mutatingPolicyDenial = regexp.MustCompile(`: policy ('[^']*' with binding '[^']*'|"[^"]*") denied request: `)

// missingNamespace is NamespaceLifecycle's refusal as kubectl prints it.
var missingNamespace = regexp.MustCompile(`^Error from server \(NotFound\): .*namespaces "[^"]+" not found$`)

// compareApplied says how a simulated result differs from what kube-apiserver did, or "".
func compareApplied(real applied, sim *simulate.Result) string {
	var d []string
	outcome := string(sim.Outcome)
	if real.outcome == "serverside-applied" && (sim.Outcome == simulate.Created || sim.Outcome == simulate.Configured) {
		outcome = real.outcome // kubectl says the same of both
	}
	if outcome != real.outcome {
		d = append(d, fmt.Sprintf("outcome: kube-apiserver %s, simulate %s", real.outcome, sim.Outcome))
	}
	if sim.Stage != real.stage {
		d = append(d, fmt.Sprintf("stage: kube-apiserver %q, simulate %q", real.stage, sim.Stage))
	}
	if normalMessage(sim.Message) != normalMessage(real.message) {
		d = append(d, fmt.Sprintf("message: kube-apiserver\n  %s\nsimulate\n  %s", real.message, sim.Message))
		if *simulateDump != "" {
			_ = os.WriteFile(*simulateDump+".kube", []byte(real.message), 0o600)
			_ = os.WriteFile(*simulateDump+".simulate", []byte(sim.Message), 0o600)
		}
	}
	rw, sw := slices.Clone(real.warnings), slices.Clone(sim.Warnings)
	slices.Sort(rw)
	slices.Sort(sw)
	if !slices.Equal(rw, sw) {
		d = append(d, fmt.Sprintf("warnings: kube-apiserver %q, simulate %q", rw, sw))
	}
	if real.stored != nil && sim.Object != nil {
		if diff := cmp.Diff(comparable(real.stored), comparable(sim.Object.Object)); diff != "" {
			d = append(d, "stored object (-kube-apiserver +simulate):\n"+diff)
		}
	}
	return strings.Join(d, "\n")
}

// comparable is a stored object without what the API server makes up for each write (uid,
// resource version, creation time, managed fields) and with the pods' random volume names replaced.
func comparable(obj map[string]any) map[string]any {
	u := (&unstructured.Unstructured{Object: obj}).DeepCopy()
	for _, f := range []string{"uid", "resourceVersion", "creationTimestamp", "managedFields"} {
		unstructured.RemoveNestedField(u.Object, "metadata", f)
	}
	data, err := json.Marshal(u.Object)
	if err != nil {
		panic(err)
	}
	out := map[string]any{}
	if err := json.Unmarshal([]byte(randomNames.ReplaceAllString(string(data), "$1")), &out); err != nil {
		panic(err)
	}
	return out
}

// readBack reads an object as the API server stores it.
func readBack(t *testing.T, dyn dynamic.Interface, r objectRef) map[string]any {
	t.Helper()
	obj, err := dyn.Resource(r.gvr).Namespace(r.namespace).Get(t.Context(), r.name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("reading %v %s/%s back: %v", r.gvr, r.namespace, r.name, err)
	}
	return obj.Object
}

func createDefaultServiceAccount(t *testing.T, cs kubernetes.Interface, ns string) {
	t.Helper()
	// The controller-manager's service account controller, which envtest does not run.
	_, err := cs.CoreV1().ServiceAccounts(ns).Create(t.Context(), &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
}

// objectRef names an object of the cluster, to read it back.
type objectRef struct {
	gvr       schema.GroupVersionResource
	namespace string
	name      string
}

// writeSnapshot reads the tracked objects back from the API server into one manifest file: the
// cluster as the next session finds it, for --existing.
// With unmanaged, the objects that only kubectl's managers wrote are without their managed fields
// (the owners simulate assumes are kubectl's; others it cannot know).
func writeSnapshot(t *testing.T, dyn dynamic.Interface, path string, refs []objectRef, unmanaged bool) string {
	t.Helper()
	var b []byte
	seen := map[objectRef]bool{}
	for _, r := range refs {
		if seen[r] {
			continue
		}
		seen[r] = true
		obj, err := dyn.Resource(r.gvr).Namespace(r.namespace).Get(t.Context(), r.name, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("reading %v %s/%s back: %v", r.gvr, r.namespace, r.name, err)
		}
		if unmanaged && !slices.ContainsFunc(obj.GetManagedFields(), func(e metav1.ManagedFieldsEntry) bool { return !strings.HasPrefix(e.Manager, "kubectl") }) {
			unstructured.RemoveNestedField(obj.Object, "metadata", "managedFields")
		}
		data, err := yaml.Marshal(obj.Object)
		if err != nil {
			t.Fatal(err)
		}
		b = append(append(b, "---\n"...), data...)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// simWorld is the cluster before the first session, and the files that describe it to simulate.
type simWorld struct {
	rbac, policies string
	base           []objectRef // the namespaces and service accounts created for it
}

// simGen draws the world and the sessions.
type simGen struct {
	r       *rand.Rand
	parity  *parityGen
	history []simObject // the objects of the sessions drawn so far
}

func newSimGen(seed uint64) *simGen {
	return &simGen{r: rand.New(rand.NewPCG(seed, seed^0x5bd1e995)), parity: newParityGen(seed)}
}

var nsGVR = corev1.SchemeGroupVersion.WithResource("namespaces")

// world creates, as an administrator, the parity test's RBAC world plus grants that let the
// session users do things, namespaces with Pod Security labels and their default service
// accounts, and ValidatingAdmissionPolicies, and waits until the API server enforces them.
func (g *simGen) world(t *testing.T, cs kubernetes.Interface, dyn dynamic.Interface, dir string) *simWorld {
	t.Helper()
	ctx := t.Context()
	w := &simWorld{rbac: filepath.Join(dir, "rbac.yaml"), policies: filepath.Join(dir, "policies.yaml")}
	// The controller-manager gives every namespace its default service account; envtest runs none.
	for _, ns := range []string{"default", "kube-system", "kube-public"} {
		createDefaultServiceAccount(t, cs, ns)
	}
	for _, ns := range g.parity.Namespaces {
		obj := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: g.podSecurityLabels()}}
		if _, err := cs.CoreV1().Namespaces().Create(ctx, obj, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		createDefaultServiceAccount(t, cs, ns)
		w.base = append(w.base, objectRef{gvr: nsGVR, name: ns})
		// A ConfigMap another manager made, whose fields a server-side apply conflicts with.
		shared := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "shared", Namespace: ns}, Data: map[string]string{"color": "red", "owner": "admin"}}
		if _, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, shared, metav1.CreateOptions{FieldManager: "admin"}); err != nil {
			t.Fatal(err)
		}
		w.base = append(w.base, objectRef{gvr: corev1.SchemeGroupVersion.WithResource("configmaps"), namespace: ns, name: "shared"})
	}
	// A LimitRange in ns-b, for LimitRanger: its defaults and its maximum; and a ResourceQuota there,
	// with the status the quota controller would give it.
	applyAsAdmin(t, dyn, []byte(simLimitRange))
	w.base = append(w.base, objectRef{gvr: corev1.SchemeGroupVersion.WithResource("limitranges"), namespace: "ns-b", name: "sim-limits"})
	applyAsAdmin(t, dyn, []byte(simQuota))
	w.base = append(w.base, objectRef{gvr: quotaGVR, namespace: "ns-b", name: "sim-quota"})
	// The Widgets' CRD, served once established.
	applyAsAdmin(t, dyn, []byte(simWidgetCRD))
	w.base = append(w.base, objectRef{gvr: schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}, name: "widgets.example.com"})
	waitServed(t, dyn, widgetGVR)
	quotaController(t, cs, dyn)
	objs := g.parity.objects()
	createRBAC(t, cs, objs)
	grants := []byte(simGrants)
	if err := os.WriteFile(w.rbac, append(objs.yaml(t), grants...), 0o600); err != nil {
		t.Fatal(err)
	}
	applyAsAdmin(t, dyn, grants)
	if err := os.WriteFile(w.policies, []byte(simPolicies), 0o600); err != nil {
		t.Fatal(err)
	}
	applyAsAdmin(t, dyn, []byte(simPolicies))
	defaults, err := rbacsim.DefaultObjects()
	if err != nil {
		t.Fatal(err)
	}
	waitAggregated(t, cs, modelOf(t, defaults, append(objs.yaml(t), grants...)))
	waitAuthorizerSynced(t, cs)
	waitPolicies(t, dyn)
	return w
}

var (
	quotaGVR  = corev1.SchemeGroupVersion.WithResource("resourcequotas")
	widgetGVR = schema.GroupVersionResource{Group: "example.com", Version: "v1", Resource: "widgets"}
)

// waitServed waits until the API server serves a custom resource.
func waitServed(t *testing.T, dyn dynamic.Interface, gvr schema.GroupVersionResource) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := dyn.Resource(gvr).Namespace("default").List(t.Context(), metav1.ListOptions{})
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%v is not served after 30s: %v", gvr, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// quotaController does, for every ResourceQuota without a status or whose hard limits changed, what
// kube-controller-manager's resource quota controller does (envtest runs no controller-manager): it
// writes the quota's hard limits and their usage to its status. The quotas' resources are object
// counts, which it counts by listing (pods that are not terminal: no pod of these tests runs).
func quotaController(t *testing.T, cs kubernetes.Interface, dyn dynamic.Interface) {
	t.Helper()
	ctx := t.Context()
	quotas, err := cs.CoreV1().ResourceQuotas("").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	counted := map[corev1.ResourceName]schema.GroupVersionResource{
		corev1.ResourceConfigMaps:   corev1.SchemeGroupVersion.WithResource("configmaps"),
		corev1.ResourcePods:         corev1.SchemeGroupVersion.WithResource("pods"),
		"count/secrets":             corev1.SchemeGroupVersion.WithResource("secrets"),
		"count/widgets.example.com": widgetGVR,
	}
	for _, q := range quotas.Items {
		if q.Status.Hard != nil && apiequality.Semantic.DeepEqual(q.Spec.Hard, q.Status.Hard) {
			continue
		}
		q.Status.Hard, q.Status.Used = q.Spec.Hard, corev1.ResourceList{}
		for name := range q.Spec.Hard {
			gvr, ok := counted[name]
			if !ok {
				t.Fatalf("ResourceQuota %s/%s: the test counts no %s", q.Namespace, q.Name, name)
			}
			list, err := dyn.Resource(gvr).Namespace(q.Namespace).List(ctx, metav1.ListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			q.Status.Used[name] = *resource.NewQuantity(int64(len(list.Items)), resource.DecimalSI)
		}
		if _, err := cs.CoreV1().ResourceQuotas(q.Namespace).UpdateStatus(ctx, &q, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
}

// podSecurityLabels draws a namespace's Pod Security labels.
func (g *simGen) podSecurityLabels() map[string]string {
	levels := []string{"", "privileged", "baseline", "restricted"}
	l := map[string]string{}
	for _, mode := range []string{"enforce", "warn"} {
		if lv := levels[g.r.IntN(len(levels))]; lv != "" {
			l["pod-security.kubernetes.io/"+mode] = lv
		}
	}
	return l
}

// simGrants let the session users act: paula edits everywhere (Widgets too, aggregated into edit), administers ns-a, creates
// namespaces and writes RBAC objects (so that the escalation check decides); olga is cluster-admin;
// alice may create namespaces.
const simGrants = `
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: sim-widgets, labels: {rbac.authorization.k8s.io/aggregate-to-edit: "true"}}
rules: [{apiGroups: [example.com], resources: [widgets], verbs: [get, create, patch]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: sim-namespaces}
rules: [{apiGroups: [""], resources: [namespaces], verbs: [get, create, patch]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: sim-rbac-writer}
rules:
- {apiGroups: [rbac.authorization.k8s.io], resources: [roles, rolebindings, clusterroles, clusterrolebindings], verbs: [get, create, patch]}
- {apiGroups: [rbac.authorization.k8s.io], resources: [clusterroles], verbs: [bind], resourceNames: [view, cr-1, cr-2]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: sim-paula-edit}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit}
subjects: [{kind: User, name: paula}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: sim-paula-admin, namespace: ns-a}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: admin}
subjects: [{kind: User, name: paula}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: sim-namespaces}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: sim-namespaces}
subjects: [{kind: User, name: paula}, {kind: User, name: alice}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: sim-rbac-writer}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: sim-rbac-writer}
subjects: [{kind: User, name: paula}, {kind: Group, name: dev}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: sim-olga}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{kind: User, name: olga}]
`

// simQuota limits ns-b, where the LimitRange gives every container a memory limit.
const simQuota = `
apiVersion: v1
kind: ResourceQuota
metadata: {name: sim-quota, namespace: ns-b}
spec:
  hard: {pods: "3", configmaps: "4", count/secrets: "2", count/widgets.example.com: "2"}
`

// simWidgetCRD serves Widgets: a size of at most 10, a color that defaults to blue, an owner, the
// rule that a red widget has an odd size, and a status subresource (a status applied is dropped).
const simWidgetCRD = `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  names: {kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer, maximum: 10}
              color: {type: string, default: blue}
              owner: {type: string}
            x-kubernetes-validations:
            - rule: "self.color != 'red' || self.size % 2 == 1"
              message: red widgets have an odd size
          status:
            type: object
            properties:
              ready: {type: boolean}
    subresources: {status: {}}
`

const simLimitRange = `
apiVersion: v1
kind: LimitRange
metadata: {name: sim-limits, namespace: ns-b}
spec:
  limits:
  - type: Container
    default: {memory: 256Mi}
    defaultRequest: {memory: 128Mi}
    max: {memory: 1Gi}
`

// simPolicies are the cluster's admission policies. ValidatingAdmissionPolicies: a denial by
// content, one by the request's user (with reason Forbidden), a denial of too many replicas, and a
// warning. MutatingAdmissionPolicies: a label on every ConfigMap (an apply configuration), a
// Deployment of 4 replicas scaled to 2 (a JSON patch under a match condition), a Widget's owner
// (the user), a Widget of size 2 made green (an apply configuration of a custom resource, before
// its CEL rule), and a Secret's label read from its data, which fails without the key.
const simPolicies = `
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingAdmissionPolicy
metadata: {name: sim-label-cm}
spec:
  matchConstraints:
    resourceRules: [{apiGroups: [""], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [configmaps]}]
  reinvocationPolicy: Never
  mutations:
  - patchType: ApplyConfiguration
    applyConfiguration:
      expression: "Object{metadata: Object.metadata{labels: {'mutated': 'yes'}}}"
---
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingAdmissionPolicyBinding
metadata: {name: sim-label-cm}
spec: {policyName: sim-label-cm}
---
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingAdmissionPolicy
metadata: {name: sim-scale-four}
spec:
  matchConstraints:
    resourceRules: [{apiGroups: [apps], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [deployments]}]
  matchConditions:
  - {name: four, expression: "object.spec.replicas == 4"}
  reinvocationPolicy: Never
  mutations:
  - patchType: JSONPatch
    jsonPatch:
      expression: "[JSONPatch{op: 'replace', path: '/spec/replicas', value: 2}]"
---
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingAdmissionPolicyBinding
metadata: {name: sim-scale-four}
spec: {policyName: sim-scale-four}
---
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingAdmissionPolicy
metadata: {name: sim-widget-owner}
spec:
  matchConstraints:
    resourceRules: [{apiGroups: [example.com], apiVersions: [v1], operations: [CREATE], resources: [widgets]}]
  reinvocationPolicy: Never
  mutations:
  - patchType: JSONPatch
    jsonPatch:
      expression: "[JSONPatch{op: 'add', path: '/spec/owner', value: request.userInfo.username}]"
---
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingAdmissionPolicyBinding
metadata: {name: sim-widget-owner}
spec: {policyName: sim-widget-owner}
---
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingAdmissionPolicy
metadata: {name: sim-widget-two-green}
spec:
  matchConstraints:
    resourceRules: [{apiGroups: [example.com], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [widgets]}]
  matchConditions:
  - {name: two, expression: "has(object.spec.size) && object.spec.size == 2"}
  reinvocationPolicy: Never
  mutations:
  - patchType: ApplyConfiguration
    applyConfiguration:
      expression: "Object{spec: Object.spec{color: 'green'}}"
---
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingAdmissionPolicyBinding
metadata: {name: sim-widget-two-green}
spec: {policyName: sim-widget-two-green}
---
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingAdmissionPolicy
metadata: {name: sim-secret-label}
spec:
  matchConstraints:
    resourceRules: [{apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [secrets]}]
  reinvocationPolicy: Never
  mutations:
  - patchType: ApplyConfiguration
    applyConfiguration:
      expression: "Object{metadata: Object.metadata{labels: {'b': string(object.data['b'])}}}"
---
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingAdmissionPolicyBinding
metadata: {name: sim-secret-label}
spec: {policyName: sim-secret-label}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: sim-no-forbidden-key}
spec:
  matchConstraints:
    resourceRules: [{apiGroups: [""], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [configmaps]}]
  validations:
  - expression: "!has(object.data) || !('forbidden' in object.data)"
    message: the key forbidden is forbidden
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: sim-no-forbidden-key}
spec: {policyName: sim-no-forbidden-key, validationActions: [Deny]}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: sim-no-carol-secrets}
spec:
  matchConstraints:
    resourceRules: [{apiGroups: [""], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [secrets]}]
  validations:
  - expression: request.userInfo.username != 'carol'
    messageExpression: "'no secrets from ' + request.userInfo.username"
    reason: Forbidden
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: sim-no-carol-secrets}
spec: {policyName: sim-no-carol-secrets, validationActions: [Deny]}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: sim-replicas}
spec:
  matchConstraints:
    resourceRules: [{apiGroups: [apps], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [deployments]}]
  validations:
  - expression: object.spec.replicas <= 3
    messageExpression: "'at most 3 replicas, not ' + string(object.spec.replicas)"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: sim-replicas}
spec: {policyName: sim-replicas, validationActions: [Deny]}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: sim-no-latest}
spec:
  matchConstraints:
    resourceRules: [{apiGroups: [""], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [pods]}]
  validations:
  - expression: "object.spec.containers.all(c, !c.image.endsWith(':latest'))"
    message: do not use :latest
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: sim-no-latest}
spec: {policyName: sim-no-latest, validationActions: [Warn]}
`
