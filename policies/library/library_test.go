package library_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/verdict-dev/verdict/manifest"
	"github.com/verdict-dev/verdict/policies"
	"github.com/verdict-dev/verdict/policies/bundle"
	"github.com/verdict-dev/verdict/policies/check"
	"github.com/verdict-dev/verdict/policies/job"
	"github.com/verdict-dev/verdict/policies/library"
)

const (
	baseline   = "pod-security-baseline"
	restricted = "pod-security-restricted"
)

var (
	libOnce   sync.Once
	libBundle *bundle.Bundle
	libErr    error
)

// loadLibrary compiles the embedded library once for the whole test binary.
func loadLibrary(t testing.TB) *bundle.Bundle {
	t.Helper()
	libOnce.Do(func() {
		libBundle, libErr = bundle.Load(context.Background(), bundle.Options{Library: library.FS})
	})
	if libErr != nil {
		t.Fatalf("loading the library: %v", libErr)
	}
	return libBundle
}

// finding is what one policy said about one request, reduced to what the tests compare.
type finding struct {
	Policy  string
	Action  policies.Action
	Message string
}

// validate judges req with the library and returns the findings of the given policies (all when none
// are given), in the order the policies gave them.
func validate(t testing.TB, req *policies.Request, only ...string) []finding {
	t.Helper()
	out := loadLibrary(t).Validate(context.Background(), req)
	for _, err := range out.Errors {
		t.Errorf("%s %s: evaluation error: %v", req.Kind.Kind, req.Name, err)
	}
	var fs []finding
	for _, f := range out.Findings {
		if len(only) == 0 || slices.Contains(only, f.Policy) {
			fs = append(fs, finding{Policy: f.Policy, Action: f.Action, Message: f.Message})
		}
	}
	return fs
}

// request presents obj to the policies as `verdict check` does, on CREATE.
func request(t testing.TB, obj *unstructured.Unstructured) *policies.Request {
	t.Helper()
	req, err := bundle.RequestFor(loadLibrary(t).Resources(), obj, policies.Create, "")
	if err != nil {
		t.Fatalf("%s %s: %v", obj.GetKind(), obj.GetName(), err)
	}
	return req
}

func flaggedBy(fs []finding, policy string) bool {
	return slices.ContainsFunc(fs, func(f finding) bool { return f.Policy == policy })
}

// readObject reads the single object of a YAML file.
func readObject(t testing.TB, path string) *unstructured.Unstructured {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	docs, err := manifest.Decode(path, data).Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 1 {
		t.Fatalf("%s: %d documents, want 1", path, len(docs))
	}
	return docs[0].Object
}

// object decodes the single object of a YAML text.
func object(t testing.TB, text string) *unstructured.Unstructured {
	t.Helper()
	docs, err := manifest.Decode("test.yaml", []byte(text)).Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 1 {
		t.Fatalf("%d documents, want 1", len(docs))
	}
	return docs[0].Object
}

// workloadKinds are the kinds whose pod template pod-security-admission judges, besides Pod.
var workloadKinds = []schema.GroupVersionKind{
	{Version: "v1", Kind: "ReplicationController"},
	{Version: "v1", Kind: "PodTemplate"},
	{Group: "apps", Version: "v1", Kind: "ReplicaSet"},
	{Group: "apps", Version: "v1", Kind: "Deployment"},
	{Group: "apps", Version: "v1", Kind: "StatefulSet"},
	{Group: "apps", Version: "v1", Kind: "DaemonSet"},
	{Group: "batch", Version: "v1", Kind: "Job"},
	{Group: "batch", Version: "v1", Kind: "CronJob"},
}

// wrap puts a pod's metadata and spec into the pod template of a workload of the given kind.
func wrap(t testing.TB, pod *unstructured.Unstructured, gvk schema.GroupVersionKind) *unstructured.Unstructured {
	t.Helper()
	template := map[string]any{"spec": pod.Object["spec"]}
	meta := map[string]any{}
	if a := pod.GetAnnotations(); a != nil {
		meta["annotations"] = toAny(a)
	}
	if l := pod.GetLabels(); l != nil {
		meta["labels"] = toAny(l)
	}
	if len(meta) > 0 {
		template["metadata"] = meta
	}
	w := &unstructured.Unstructured{Object: map[string]any{}}
	w.SetGroupVersionKind(gvk)
	w.SetName(pod.GetName())
	switch gvk.Kind {
	case "PodTemplate":
		w.Object["template"] = template
	case "CronJob":
		w.Object["spec"] = map[string]any{"schedule": "@daily",
			"jobTemplate": map[string]any{"spec": map[string]any{"template": template}}}
	default:
		w.Object["spec"] = map[string]any{"template": template}
	}
	return w
}

func toAny(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// restrictedChecks are the IDs (lower case, as in the fixture names) of pod-security-admission's
// restricted-level checks; every other fixture is named for a baseline check.
var restrictedChecks = []string{"allowprivilegeescalation", "capabilities_restricted", "procmount_restricted",
	"restrictedvolumes", "runasnonroot", "runasuser", "seccompprofile_restricted"}

var fixtureCheck = regexp.MustCompile(`^([a-z_]+?)\d*\.yaml$`)

// TestPodSecurityFixtures judges pod-security-admission's own fixtures: every pod that PSA denies at
// a level is flagged by the policies of that level, every pod it allows is not, and the pod template
// of every workload kind gets the same findings as the pod.
func TestPodSecurityFixtures(t *testing.T) {
	counts := map[string]int{}
	for _, level := range []string{"baseline", "restricted"} {
		for _, verdict := range []string{"pass", "fail"} {
			dir := filepath.Join("testdata", "psa", level, verdict)
			files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
			if err != nil || len(files) == 0 {
				t.Fatalf("no fixtures in %s (%v)", dir, err)
			}
			for _, file := range files {
				name := filepath.Base(file)
				t.Run(level+"/"+verdict+"/"+name, func(t *testing.T) {
					pod := readObject(t, file)
					got := validate(t, request(t, pod), baseline, restricted)
					byBaseline, byRestricted := flaggedBy(got, baseline), flaggedBy(got, restricted)
					switch {
					case level == "baseline" && verdict == "pass" && byBaseline:
						t.Errorf("PSA allows this pod at baseline, the policy flags it: %v", got)
					case level == "baseline" && verdict == "fail" && !byBaseline:
						t.Errorf("PSA denies this pod at baseline, the policy does not flag it")
					case level == "restricted" && verdict == "pass" && (byBaseline || byRestricted):
						t.Errorf("PSA allows this pod at restricted, the policies flag it: %v", got)
					case level == "restricted" && verdict == "fail":
						m := fixtureCheck.FindStringSubmatch(name)
						if m == nil {
							t.Fatalf("fixture name %q names no check", name)
						}
						want := baseline
						if slices.Contains(restrictedChecks, m[1]) {
							want = restricted
						}
						if !flaggedBy(got, want) {
							t.Errorf("PSA denies this pod at restricted (check %s), %s does not flag it: %v", m[1], want, got)
						}
					}
					for _, f := range got {
						wantAction := policies.Deny
						if f.Policy == restricted {
							wantAction = policies.Warn
						}
						if f.Action != wantAction {
							t.Errorf("%s: action %s, want %s", f.Policy, f.Action, wantAction)
						}
					}
					for _, gvk := range workloadKinds {
						w := wrap(t, pod, gvk)
						if wgot := validate(t, request(t, w), baseline, restricted); !slices.Equal(wgot, got) {
							t.Errorf("%s template: findings\n%v\nwant the pod's\n%v", gvk.Kind, wgot, got)
						}
					}
				})
				counts[level+"/"+verdict]++
			}
		}
	}
	t.Logf("fixtures judged (each also as 8 workload templates): %v", counts)
}

// TestPodSecurityMessages pins the messages, which follow pod-security-admission's
// "reason (detail)" form for each check.
func TestPodSecurityMessages(t *testing.T) {
	pod := object(t, `
apiVersion: v1
kind: Pod
metadata:
  name: p
  annotations:
    container.apparmor.security.beta.kubernetes.io/b: unconfined
spec:
  hostNetwork: true
  hostPID: true
  securityContext:
    seccompProfile: {type: Unconfined}
    seLinuxOptions: {type: spc_t, user: root}
    sysctls: [{name: kernel.msgmax, value: "1"}, {name: net.ipv4.tcp_syncookies, value: "1"}]
    windowsOptions: {hostProcess: true}
  volumes:
  - {name: host, hostPath: {path: /}}
  - {name: net, nfs: {server: s, path: /}}
  - {name: conf, configMap: {name: x}}
  initContainers:
  - name: i
    image: i:1
    securityContext:
      privileged: true
      capabilities: {add: [SYS_ADMIN, CHOWN, NET_RAW]}
      procMount: Unmasked
      seLinuxOptions: {role: r}
  containers:
  - name: a
    image: a:1
    ports: [{containerPort: 80, hostPort: 80}, {containerPort: 9, hostPort: 9000}]
    livenessProbe: {httpGet: {host: evil.example, port: 80}}
    securityContext:
      allowPrivilegeEscalation: false
      capabilities: {drop: [ALL], add: [NET_BIND_SERVICE]}
      runAsUser: 0
      appArmorProfile: {type: Unconfined}
  - name: b
    image: b:1
    ports: [{containerPort: 81, hostPort: 81}]
    securityContext:
      runAsNonRoot: false
      seccompProfile: {type: Localhost, localhostProfile: p.json}
`)
	want := []finding{
		{baseline, policies.Deny, `forbidden AppArmor profiles (container "a" and annotation must not set AppArmor profile type to "Unconfined", "container.apparmor.security.beta.kubernetes.io/b="unconfined"")`},
		{baseline, policies.Deny, `non-default capabilities (container "i" must not include "NET_RAW", "SYS_ADMIN" in securityContext.capabilities.add)`},
		{baseline, policies.Deny, `host namespaces (hostNetwork=true, hostPID=true)`},
		{baseline, policies.Deny, `hostPath volumes (volume "host")`},
		{baseline, policies.Deny, `hostPort (containers "a", "b" use hostPorts 80, 81, 9000)`},
		{baseline, policies.Deny, `probe or lifecycle host (container "a" uses probe or lifecycle host "evil.example")`},
		{baseline, policies.Deny, `privileged (container "i" must not set securityContext.privileged=true)`},
		{baseline, policies.Deny, `procMount (container "i" must not set securityContext.procMount to "Unmasked")`},
		{baseline, policies.Deny, `seLinuxOptions (pod and container "i" set forbidden securityContext.seLinuxOptions: type "spc_t"; user may not be set; role may not be set)`},
		{baseline, policies.Deny, `seccompProfile (pod must not set securityContext.seccompProfile.type to "Unconfined")`},
		{baseline, policies.Deny, `forbidden sysctls (kernel.msgmax)`},
		{baseline, policies.Deny, `hostProcess (pod must not set securityContext.windowsOptions.hostProcess=true)`},
		{restricted, policies.Warn, `allowPrivilegeEscalation != false (containers "i", "b" must set securityContext.allowPrivilegeEscalation=false)`},
		{restricted, policies.Warn, `unrestricted capabilities (containers "i", "b" must set securityContext.capabilities.drop=["ALL"]; container "i" must not include "CHOWN", "NET_RAW", "SYS_ADMIN" in securityContext.capabilities.add)`},
		{restricted, policies.Warn, `procMount (container "i" must not set securityContext.procMount to "Unmasked")`},
		{restricted, policies.Warn, `restricted volume types (volumes "host", "net" use restricted volume types "hostPath", "nfs")`},
		{restricted, policies.Warn, `runAsNonRoot != true (container "b" must not set securityContext.runAsNonRoot=false)`},
		{restricted, policies.Warn, `runAsUser=0 (container "a" must not set runAsUser=0)`},
		{restricted, policies.Warn, `seccompProfile (pod must not set securityContext.seccompProfile.type to "Unconfined")`},
	}
	got := validate(t, request(t, pod), baseline, restricted)
	slices.SortStableFunc(got, func(a, b finding) int { return strings.Compare(a.Policy, b.Policy) })
	if !slices.Equal(got, want) {
		t.Errorf("findings:\n%s\nwant:\n%s", show(got), show(want))
	}

	implicit := object(t, `
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  securityContext: {runAsNonRoot: true}
  containers:
  - name: a
    image: a:1
    securityContext:
      allowPrivilegeEscalation: false
      capabilities: {drop: [ALL]}
  - name: b
    image: b:1
    securityContext:
      allowPrivilegeEscalation: false
      capabilities: {drop: [ALL]}
      seccompProfile: {type: RuntimeDefault}
`)
	want = []finding{{restricted, policies.Warn, `seccompProfile (pod or container "a" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")`}}
	if got := validate(t, request(t, implicit), baseline, restricted); !slices.Equal(got, want) {
		t.Errorf("findings:\n%s\nwant:\n%s", show(got), show(want))
	}
}

func show(fs []finding) string {
	var b strings.Builder
	for _, f := range fs {
		b.WriteString("  " + f.Policy + " " + string(f.Action) + " " + f.Message + "\n")
	}
	return b.String()
}

// TestPodSecurityMatching covers which requests pod-security-admission judges: pod subresources,
// insignificant pod updates, workloads without a template, Windows and user-namespace exemptions.
func TestPodSecurityMatching(t *testing.T) {
	const privileged = `
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: ns}
spec:
  containers:
  - {name: a, image: "a:1", securityContext: {privileged: true}}
`
	pod := object(t, privileged)
	changed := pod.DeepCopy()
	changed.Object["spec"].(map[string]any)["containers"] = []any{map[string]any{
		"name": "a", "image": "a:2", "securityContext": map[string]any{"privileged": true}}}
	labelled := pod.DeepCopy()
	labelled.SetLabels(map[string]string{"x": "y"})
	debugged := pod.DeepCopy()
	debugged.Object["spec"].(map[string]any)["ephemeralContainers"] = []any{map[string]any{
		"name": "debug", "image": "busybox:1"}}
	debugged2 := debugged.DeepCopy()
	debugged2.Object["spec"].(map[string]any)["ephemeralContainers"] = []any{map[string]any{
		"name": "debug", "image": "busybox:2"}}

	update := func(old, new *unstructured.Unstructured, sub string) *policies.Request {
		req := request(t, new)
		req.Operation, req.OldObject, req.SubResource = policies.Update, old, sub
		return req
	}
	withSub := func(sub string) *policies.Request {
		req := request(t, pod)
		req.SubResource = sub
		return req
	}
	cases := []struct {
		name    string
		req     *policies.Request
		flagged bool
	}{
		{"create", request(t, pod), true},
		{"update without change", update(pod, pod, ""), false},
		{"update of labels only", update(pod, labelled, ""), false},
		{"update of an image", update(pod, changed, ""), true},
		{"ephemeral container added", update(pod, debugged, "ephemeralcontainers"), true},
		{"ephemeral container unchanged", update(debugged, debugged, "ephemeralcontainers"), false},
		{"ephemeral container image changed", update(debugged, debugged2, "ephemeralcontainers"), true},
		{"resize without image change", update(pod, labelled, "resize"), false},
		{"status", withSub("status"), false},
		{"binding", withSub("binding"), false},
		{"unknown pod subresource", withSub("future"), true},
		{"deployment without template", request(t, object(t, "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}")), false},
		{"replication controller without template", request(t, object(t, "apiVersion: v1\nkind: ReplicationController\nmetadata: {name: r}")), false},
		{"deployment with empty template", request(t, object(t, "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {template: {}}")), false},
		{"deployment status", func() *policies.Request {
			req := request(t, wrap(t, pod, workloadKinds[3]))
			req.SubResource = "status"
			return req
		}(), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := validate(t, c.req, baseline)
			if flaggedBy(got, baseline) != c.flagged {
				t.Errorf("flagged = %v, want %v (%v)", !c.flagged, c.flagged, got)
			}
		})
	}
}

// TestPodSecurityExemptions covers the fields that relax checks: spec.os.name windows for the
// restricted Linux-only checks, and hostUsers: false for procMount (baseline), runAsNonRoot and runAsUser.
func TestPodSecurityExemptions(t *testing.T) {
	cases := []struct {
		name                   string
		pod                    string
		byBaseline, byRestrict bool
	}{
		{"windows exempt from restricted linux checks", `
spec:
  os: {name: windows}
  containers: [{name: a, image: "a:1", securityContext: {runAsNonRoot: true}}]`, false, false},
		{"linux not exempt", `
spec:
  os: {name: linux}
  containers: [{name: a, image: "a:1", securityContext: {runAsNonRoot: true}}]`, false, true},
		{"windows still held to runAsNonRoot", `
spec:
  os: {name: windows}
  containers: [{name: a, image: "a:1"}]`, false, true},
		{"windows still held to baseline", `
spec:
  os: {name: windows}
  securityContext: {runAsNonRoot: true}
  containers: [{name: a, image: "a:1", securityContext: {capabilities: {add: [SYS_ADMIN]}}}]`, true, false},
		{"user namespace allows procMount at baseline", `
spec:
  hostUsers: false
  containers: [{name: a, image: "a:1", securityContext: {procMount: Unmasked}}]`, false, true},
		{"user namespace allows root", `
spec:
  hostUsers: false
  securityContext: {runAsUser: 0, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: a
    image: "a:1"
    securityContext: {runAsNonRoot: false, allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}`, false, false},
		{"host users allow no root", `
spec:
  hostUsers: true
  securityContext: {runAsUser: 0, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: a
    image: "a:1"
    securityContext: {runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}`, false, true},
		{"volume without a source is an emptyDir", `
spec:
  securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
  volumes: [{name: v}]
  containers:
  - name: a
    image: "a:1"
    securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL], add: [NET_BIND_SERVICE]}}`, false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pod := object(t, "apiVersion: v1\nkind: Pod\nmetadata: {name: p}"+c.pod)
			got := validate(t, request(t, pod), baseline, restricted)
			if flaggedBy(got, baseline) != c.byBaseline || flaggedBy(got, restricted) != c.byRestrict {
				t.Errorf("flagged by baseline %v, restricted %v; want %v, %v\n%s",
					flaggedBy(got, baseline), flaggedBy(got, restricted), c.byBaseline, c.byRestrict, show(got))
			}
		})
	}
}

// TestBestPractices runs the best-practice policies through `verdict check`'s code with the embedded
// library, params included.
func TestBestPractices(t *testing.T) {
	cases := []struct {
		name   string
		policy string
		input  string
		want   []string // "action: message"
	}{
		{"limits set", "require-resource-limits", `
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
  - {name: a, image: "a:1", resources: {requests: {cpu: 100m}, limits: {memory: 64Mi}}}`, nil},
		{"cpu limit counts as request", "require-resource-limits", `
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
  - {name: a, image: "a:1", resources: {limits: {cpu: 1, memory: 64Mi}}}`, nil},
		{"nothing set", "require-resource-limits", `
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
  - {name: a, image: "a:1"}`, []string{
			`warn: container "a" must set resources.limits.memory`,
			`warn: container "a" must set resources.requests.cpu`}},
		{"init containers judged, ephemeral not", "require-resource-limits", `
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  initContainers:
  - {name: i, image: "a:1", resources: {requests: {cpu: 1}}}
  - {name: j, image: "a:1", resources: {requests: {cpu: 1}}}
  containers:
  - {name: a, image: "a:1", resources: {requests: {cpu: 100m}, limits: {memory: 64Mi}}}
  ephemeralContainers:
  - {name: e, image: "a:1"}`, []string{`warn: containers "i", "j" must set resources.limits.memory`}},
		{"cronjob template", "require-resource-limits", `
apiVersion: batch/v1
kind: CronJob
metadata: {name: c}
spec:
  schedule: "@daily"
  jobTemplate:
    spec:
      template:
        spec:
          containers:
          - {name: a, image: "a:1", resources: {limits: {memory: 64Mi}}}`, []string{`warn: container "a" must set resources.requests.cpu`}},
		{"labels present", "require-labels", `
apiVersion: apps/v1
kind: Deployment
metadata: {name: d, labels: {app.kubernetes.io/name: web}}`, nil},
		{"label missing", "require-labels", `
apiVersion: apps/v1
kind: Deployment
metadata: {name: d, labels: {app: web}}`, []string{`warn: missing required label: app.kubernetes.io/name`}},
		{"bare pod without labels", "require-labels", `
apiVersion: v1
kind: Pod
metadata: {name: p}
spec: {containers: [{name: a, image: "a:1"}]}`, []string{`warn: missing required label: app.kubernetes.io/name`}},
		{"controller-owned pod not judged", "require-labels", `
apiVersion: v1
kind: Pod
metadata:
  name: p
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: rs, uid: "1", controller: true}]
spec: {containers: [{name: a, image: "a:1"}]}`, nil},
		{"service not judged", "require-labels", `
apiVersion: v1
kind: Service
metadata: {name: s}
spec: {ports: [{port: 80}]}`, nil},
		{"tagged image", "disallow-latest-tag", `
apiVersion: v1
kind: Pod
metadata: {name: p}
spec: {containers: [{name: a, image: "registry:5000/a:1.2"}, {name: b, image: "a@sha256:0123"}]}`, nil},
		{"latest and untagged images", "disallow-latest-tag", `
apiVersion: apps/v1
kind: Deployment
metadata: {name: d}
spec: {template: {spec: {containers: [{name: a, image: "a:latest"}, {name: b, image: "registry:5000/b"}]}}}`,
			[]string{`deny: images must name a tag other than latest or a digest; containers using latest: a, b`}},
	}
	dir := t.TempDir()
	for i, c := range cases {
		t.Run(c.policy+"/"+c.name, func(t *testing.T) {
			file := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-")+".yaml")
			if err := os.WriteFile(file, []byte(c.input), 0o644); err != nil {
				t.Fatal(err)
			}
			report, err := check.Run(context.Background(), job.Options{Policies: bundle.Options{Library: library.FS}, Inputs: []string{file}})
			if err != nil {
				t.Fatalf("case %d: %v", i, err)
			}
			var got []string
			for _, r := range report.Results {
				if r.Policy == c.policy {
					if r.Binding != c.policy {
						t.Errorf("binding %q, want %q", r.Binding, c.policy)
					}
					got = append(got, r.Action+": "+r.Message)
				}
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("findings of %s:\n  %s\nwant:\n  %s", c.policy, strings.Join(got, "\n  "), strings.Join(c.want, "\n  "))
			}
		})
	}
}

// TestRequireLabelsParam shows that the labels come from the param: without it the binding denies
// (parameterNotFoundAction: Deny), and another ConfigMap changes what is required.
func TestRequireLabelsParam(t *testing.T) {
	policy, err := os.ReadFile(filepath.Join("policies", "require-labels.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	policyFile := write("require-labels.yaml", string(policy))
	params := write("params.yaml", `
apiVersion: v1
kind: ConfigMap
metadata: {name: required-labels, namespace: verdict-system}
data: {labels: " team , app.kubernetes.io/name,,"}`)
	input := write("deploy.yaml", `
apiVersion: apps/v1
kind: Deployment
metadata: {name: d, namespace: dev, labels: {app.kubernetes.io/name: web}}`)

	run := func(policyPaths ...string) []check.Result {
		t.Helper()
		report, err := check.Run(context.Background(), job.Options{Policies: bundle.Options{Paths: policyPaths}, Inputs: []string{input}})
		if err != nil {
			t.Fatal(err)
		}
		return report.Results
	}
	got := run(policyFile, params)
	if len(got) != 1 || got[0].Action != "warn" || got[0].Message != "missing required label: team" {
		t.Errorf("with param: %+v", got)
	}
	got = run(policyFile)
	if len(got) != 1 || got[0].Action != "deny" || !strings.Contains(got[0].Message, "no params found") {
		t.Errorf("without param: %+v", got)
	}
}

// TestLibraryShape checks what the library promises: every policy has a binding of its name, and
// the bindings' actions are the documented ones.
func TestLibraryShape(t *testing.T) {
	entries, err := os.ReadDir("policies")
	if err != nil {
		t.Fatal(err)
	}
	policyNames := map[string]bool{}
	actions := map[string]string{}
	for _, e := range entries {
		path := filepath.Join("policies", e.Name())
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		docs, err := manifest.Decode(path, data).Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range docs {
			switch d.Object.GetKind() {
			case "ValidatingAdmissionPolicy":
				policyNames[d.Object.GetName()] = true
			case "ValidatingAdmissionPolicyBinding":
				pn, _, _ := unstructured.NestedString(d.Object.Object, "spec", "policyName")
				if pn != d.Object.GetName() {
					t.Errorf("%s: binding %q binds policy %q", path, d.Object.GetName(), pn)
				}
				va, _, _ := unstructured.NestedStringSlice(d.Object.Object, "spec", "validationActions")
				actions[pn] = strings.Join(va, ",")
			}
		}
	}
	want := map[string]string{
		"pod-security-baseline":   "Deny",
		"pod-security-restricted": "Warn",
		"disallow-latest-tag":     "Deny",
		"require-resource-limits": "Warn",
		"require-labels":          "Warn",
	}
	for name := range policyNames {
		if _, ok := actions[name]; !ok {
			t.Errorf("policy %s has no binding of its name", name)
		}
	}
	for name, a := range want {
		if !policyNames[name] {
			t.Errorf("policy %s missing from the library", name)
		}
		if actions[name] != a {
			t.Errorf("binding %s: validationActions %q, want %q", name, actions[name], a)
		}
	}
	b := loadLibrary(t)
	if len(b.Warnings) > 0 {
		t.Errorf("library warnings: %v", b.Warnings)
	}
}
