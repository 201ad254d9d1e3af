// The differential test against pod-security-admission itself: random pods judged by PSA's own
// evaluator and by the embedded policies must get the same verdicts.

package library_test

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"

	"github.com/verdict-dev/verdict/manifest"
)

// diffPods is how many random pods the differential test judges; diffSeed makes them the same pods
// on every run.
const (
	diffPods = 6000
	diffSeed = 1337
)

// TestPodSecurityDifferential judges thousands of random pods, built from the fields
// pod-security-admission's checks read, with PSA and with the library's policies, and requires:
//
//   - pod-security-baseline flags exactly the pods PSA denies at baseline, with one finding per failing
//     baseline check, worded as PSA words it ("reason (detail)");
//   - pod-security-restricted flags exactly the pods that fail a restricted-level check of PSA, with
//     the same one-finding-per-check messages;
//   - the two policies together flag exactly the pods PSA denies at restricted, except for PSA's own
//     inconsistency documented in pod-security-restricted.yaml (Windows pods that PSA denies at
//     baseline for capabilities or seccomp but allows at restricted), which is counted.
//
// Every 8th pod is also judged as the pod template of a workload, with the same findings.
func TestPodSecurityDifferential(t *testing.T) {
	evaluator, err := policy.NewEvaluator(policy.DefaultChecks(), nil)
	if err != nil {
		t.Fatal(err)
	}
	checks := latestChecks(policy.DefaultChecks())
	r := rand.New(rand.NewPCG(diffSeed, diffSeed))

	var stats struct {
		baselineDenied, restrictedDenied, restrictedOnly, windowsGap, templates int
	}
	failures := 0
	fail := func(format string, args ...any) {
		t.Helper()
		failures++
		if failures <= 20 {
			t.Errorf(format, args...)
		}
	}
	for i := range diffPods {
		generated := (&podGen{r: r}).pod(fmt.Sprintf("pod-%d", i))
		// PSA in the API server judges the pod after defaulting (a hostNetwork pod's ports get host
		// ports); the policies see the defaulted pod too.
		obj := toUnstructured(t, generated)
		pod := defaulted(t, obj)
		got := validate(t, request(t, obj), baseline, restricted)

		// Check by check: the messages of each policy are those of PSA's failing checks of its level.
		wantBaseline := checkMessages(checks, api.LevelBaseline, pod)
		wantRestricted := checkMessages(checks, api.LevelRestricted, pod)
		gotBaseline, gotRestricted := messagesOf(got, baseline), messagesOf(got, restricted)
		if !slices.Equal(gotBaseline, wantBaseline) || !slices.Equal(gotRestricted, wantRestricted) {
			fail("pod %d: baseline findings %q, PSA %q; restricted findings %q, PSA %q\n%s",
				i, gotBaseline, wantBaseline, gotRestricted, wantRestricted, yamlOf(t, obj))
		}

		// Level by level: the evaluator's verdict.
		psaBaseline := allowed(evaluator, api.LevelBaseline, pod)
		psaRestricted := allowed(evaluator, api.LevelRestricted, pod)
		byBaseline, byRestricted := len(gotBaseline) > 0, len(gotRestricted) > 0
		if byBaseline == psaBaseline {
			fail("pod %d: PSA baseline allowed=%v, pod-security-baseline flagged=%v\n%s", i, psaBaseline, byBaseline, yamlOf(t, obj))
		}
		if flagged := byBaseline || byRestricted; flagged == psaRestricted {
			if psaRestricted && isWindowsGap(checks, pod) {
				stats.windowsGap++
			} else {
				fail("pod %d: PSA restricted allowed=%v, the policies flagged=%v\n%s", i, psaRestricted, flagged, yamlOf(t, obj))
			}
		}
		if !psaBaseline {
			stats.baselineDenied++
		}
		if !psaRestricted {
			stats.restrictedDenied++
			if psaBaseline {
				stats.restrictedOnly++
			}
		}

		if i%8 == 0 {
			gvk := workloadKinds[r.IntN(len(workloadKinds))]
			// A template is defaulted as a template (no host ports for hostNetwork): PSA judges the pod
			// the template describes.
			workload := wrap(t, toUnstructured(t, generated), gvk)
			wgot := validate(t, request(t, workload), baseline, restricted)
			tpod := templatePod(t, workload)
			wantB, wantR := checkMessages(checks, api.LevelBaseline, tpod), checkMessages(checks, api.LevelRestricted, tpod)
			if gb, gr := messagesOf(wgot, baseline), messagesOf(wgot, restricted); !slices.Equal(gb, wantB) || !slices.Equal(gr, wantR) {
				fail("pod %d as %s template: findings %q %q, want PSA's %q %q", i, gvk.Kind, gb, gr, wantB, wantR)
			}
			stats.templates++
		}
	}
	if failures > 20 {
		t.Errorf("... %d differences in all", failures)
	}
	t.Logf("%d pods (seed %d): %d denied by PSA at baseline, %d at restricted (%d of them only there); "+
		"%d also judged as workload templates; %d differences; %d in the documented Windows gap",
		diffPods, diffSeed, stats.baselineDenied, stats.restrictedDenied, stats.restrictedOnly, stats.templates,
		failures, stats.windowsGap)
	if stats.baselineDenied < diffPods/5 || diffPods-stats.restrictedDenied < diffPods/10 {
		t.Errorf("the generator is lopsided: %+v", stats)
	}
}

// latestChecks returns PSA's checks at their latest version, sorted by ID as PSA orders its results.
func latestChecks(all []policy.Check) []policy.Check {
	out := slices.Clone(all)
	slices.SortFunc(out, func(a, b policy.Check) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// checkMessages runs every check of one level at its latest version and returns the failures as
// PSA words them in a denial: "reason (detail)".
func checkMessages(checks []policy.Check, level api.Level, pod *corev1.Pod) []string {
	var msgs []string
	for _, c := range checks {
		if c.Level != level {
			continue
		}
		res := c.Versions[len(c.Versions)-1].CheckPod(&pod.ObjectMeta, &pod.Spec)
		if res.Allowed {
			continue
		}
		agg := policy.AggregateCheckResults([]policy.CheckResult{res})
		msgs = append(msgs, agg.ForbiddenDetail())
	}
	return msgs
}

// failingIDs returns the IDs of the checks of a level that the pod fails.
func failingIDs(checks []policy.Check, level api.Level, pod *corev1.Pod) []policy.CheckID {
	var ids []policy.CheckID
	for _, c := range checks {
		if c.Level == level && !c.Versions[len(c.Versions)-1].CheckPod(&pod.ObjectMeta, &pod.Spec).Allowed {
			ids = append(ids, c.ID)
		}
	}
	return ids
}

// isWindowsGap reports whether a pod is one PSA allows at restricted only because, at that level,
// the restricted capabilities and seccomp checks replace the baseline ones and exempt Windows pods.
func isWindowsGap(checks []policy.Check, pod *corev1.Pod) bool {
	if pod.Spec.OS == nil || pod.Spec.OS.Name != corev1.Windows {
		return false
	}
	ids := failingIDs(checks, api.LevelBaseline, pod)
	return len(ids) > 0 && !slices.ContainsFunc(ids, func(id policy.CheckID) bool {
		return id != "capabilities_baseline" && id != "seccompProfile_baseline"
	})
}

func allowed(e policy.Evaluator, level api.Level, pod *corev1.Pod) bool {
	res := e.EvaluatePod(api.LevelVersion{Level: level, Version: api.LatestVersion()}, &pod.ObjectMeta, &pod.Spec)
	return policy.AggregateCheckResults(res).Allowed
}

func messagesOf(fs []finding, policy string) []string {
	var msgs []string
	for _, f := range fs {
		if f.Policy == policy {
			msgs = append(msgs, f.Message)
		}
	}
	return msgs
}

// toUnstructured converts a pod as the API server presents it to admission policies: through its
// JSON form, so unset and zero-valued optional fields are absent.
func toUnstructured(t testing.TB, pod *corev1.Pod) *unstructured.Unstructured {
	t.Helper()
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(pod)
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{Object: m}
	u.SetAPIVersion("v1")
	u.SetKind("Pod")
	return u
}

// defaulted returns the pod as the API server holds it after decoding: defaults filled in.
func defaulted(t testing.TB, obj *unstructured.Unstructured) *corev1.Pod {
	t.Helper()
	n, err := manifest.Normalize(obj)
	if err != nil {
		t.Fatal(err)
	}
	pod := &corev1.Pod{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(n.Object, pod); err != nil {
		t.Fatal(err)
	}
	return pod
}

// templatePod returns the pod that a workload's template describes, after the workload's defaulting.
func templatePod(t testing.TB, workload *unstructured.Unstructured) *corev1.Pod {
	t.Helper()
	n, err := manifest.Normalize(workload)
	if err != nil {
		t.Fatal(err)
	}
	path := []string{"spec", "template"}
	switch n.GetKind() {
	case "PodTemplate":
		path = []string{"template"}
	case "CronJob":
		path = []string{"spec", "jobTemplate", "spec", "template"}
	}
	tmpl, _, _ := unstructured.NestedMap(n.Object, path...)
	pod := &corev1.Pod{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(tmpl, pod); err != nil {
		t.Fatal(err)
	}
	return pod
}

func yamlOf(t testing.TB, u *unstructured.Unstructured) string {
	t.Helper()
	b, err := u.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// podGen builds random pods from the fields pod-security-admission's checks read. Each pod has its
// own rate of deviations from the restricted profile, so that the pods range from compliant to
// thoroughly bad.
type podGen struct {
	r   *rand.Rand
	bad float64
}

func (g *podGen) chance(p float64) bool { return g.r.Float64() < p }

// deviate reports whether to make this field non-compliant.
func (g *podGen) deviate() bool { return g.chance(g.bad) }

func oneOf[T any](g *podGen, xs ...T) T { return xs[g.r.IntN(len(xs))] }

func ptr[T any](v T) *T { return &v }

func (g *podGen) pod(name string) *corev1.Pod {
	g.bad = oneOf(g, 0.0, 0.01, 0.03, 0.06, 0.1, 0.2)
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"}}
	spec := &pod.Spec
	switch g.r.IntN(5) {
	case 0:
		spec.OS = &corev1.PodOS{Name: corev1.Linux}
	case 1:
		spec.OS = &corev1.PodOS{Name: corev1.Windows}
	}
	switch g.r.IntN(6) {
	case 0:
		spec.HostUsers = ptr(true)
	case 1:
		spec.HostUsers = ptr(false)
	}
	spec.HostNetwork = g.deviate()
	spec.HostPID = g.deviate()
	spec.HostIPC = g.deviate()
	if !g.chance(0.05) {
		spec.SecurityContext = g.podSecurityContext()
	}
	for range g.r.IntN(4) {
		spec.Volumes = append(spec.Volumes, g.volume(fmt.Sprintf("vol%d", len(spec.Volumes))))
	}
	for i := range 1 + g.r.IntN(3) {
		spec.Containers = append(spec.Containers, *g.container(fmt.Sprintf("app%d", i)))
	}
	for i := range g.r.IntN(3) {
		spec.InitContainers = append(spec.InitContainers, *g.container(fmt.Sprintf("init%d", i)))
	}
	if g.chance(0.2) {
		c := g.container("debug")
		spec.EphemeralContainers = append(spec.EphemeralContainers,
			corev1.EphemeralContainer{EphemeralContainerCommon: corev1.EphemeralContainerCommon(*c)})
	}
	pod.Annotations = g.annotations(pod)
	return pod
}

func (g *podGen) annotations(pod *corev1.Pod) map[string]string {
	a := map[string]string{}
	names := []string{"other"}
	for _, c := range pod.Spec.Containers {
		names = append(names, c.Name)
	}
	for _, c := range pod.Spec.InitContainers {
		names = append(names, c.Name)
	}
	for range g.r.IntN(3) {
		v := oneOf(g, "", "runtime/default", "localhost/profile")
		if g.deviate() {
			v = oneOf(g, "unconfined", "docker/default", "other")
		}
		a["container.apparmor.security.beta.kubernetes.io/"+oneOf(g, names...)] = v
	}
	// Seccomp annotations are no longer read (since policy version 1.19): they must change nothing.
	if g.chance(0.1) {
		a["seccomp.security.alpha.kubernetes.io/pod"] = oneOf(g, "unconfined", "runtime/default")
	}
	if g.chance(0.1) {
		a["container.seccomp.security.alpha.kubernetes.io/"+oneOf(g, names...)] = "unconfined"
	}
	if len(a) == 0 {
		return nil
	}
	return a
}

func (g *podGen) seccomp(required bool) *corev1.SeccompProfile {
	if g.deviate() {
		return oneOf(g, nil, &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeUnconfined},
			&corev1.SeccompProfile{Type: ""})
	}
	if !required && g.chance(0.7) {
		return nil
	}
	if g.chance(0.5) {
		return &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}
	}
	return &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeLocalhost, LocalhostProfile: ptr("p.json")}
}

func (g *podGen) appArmor() *corev1.AppArmorProfile {
	if g.deviate() {
		return &corev1.AppArmorProfile{Type: oneOf(g, corev1.AppArmorProfileTypeUnconfined, "", "Other")}
	}
	switch g.r.IntN(6) {
	case 0:
		return &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeRuntimeDefault}
	case 1:
		return &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeLocalhost, LocalhostProfile: ptr("p")}
	}
	return nil
}

func (g *podGen) seLinux() *corev1.SELinuxOptions {
	if g.deviate() {
		o := &corev1.SELinuxOptions{Type: oneOf(g, "", "container_t", "spc_t", "unconfined_t")}
		if g.chance(0.4) {
			o.User = "system_u"
		}
		if g.chance(0.4) {
			o.Role = "system_r"
		}
		return o
	}
	if g.chance(0.15) {
		return &corev1.SELinuxOptions{Type: oneOf(g, "", "container_t", "container_init_t", "container_kvm_t",
			"container_engine_t"), Level: oneOf(g, "", "s0:c1,c2")}
	}
	return nil
}

func (g *podGen) runAsNonRoot(required bool) *bool {
	if g.deviate() {
		return oneOf(g, nil, ptr(false))
	}
	if required || g.chance(0.2) {
		return ptr(true)
	}
	return nil
}

func (g *podGen) runAsUser() *int64 {
	if g.deviate() {
		return ptr(int64(0))
	}
	return oneOf(g, nil, nil, ptr(int64(1000)))
}

func (g *podGen) hostProcess() *corev1.WindowsSecurityContextOptions {
	if g.deviate() {
		return &corev1.WindowsSecurityContextOptions{HostProcess: ptr(true)}
	}
	if g.chance(0.1) {
		return &corev1.WindowsSecurityContextOptions{HostProcess: ptr(false), RunAsUserName: ptr("user")}
	}
	return nil
}

func (g *podGen) podSecurityContext() *corev1.PodSecurityContext {
	sc := &corev1.PodSecurityContext{
		RunAsNonRoot:    g.runAsNonRoot(g.chance(0.8)),
		RunAsUser:       g.runAsUser(),
		SeccompProfile:  g.seccomp(g.chance(0.8)),
		AppArmorProfile: g.appArmor(),
		SELinuxOptions:  g.seLinux(),
		WindowsOptions:  g.hostProcess(),
	}
	for range g.r.IntN(3) {
		name := oneOf(g, "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.tcp_syncookies",
			"net.ipv4.ping_group_range", "net.ipv4.ip_unprivileged_port_start", "net.ipv4.ip_local_reserved_ports",
			"net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
			"net.ipv4.tcp_keepalive_probes", "net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem",
			"net.ipv4.tcp_slow_start_after_idle", "net.ipv4.tcp_notsent_lowat")
		if g.deviate() {
			name = oneOf(g, "kernel.msgmax", "net.core.somaxconn", "vm.swappiness", "net.ipv4.tcp_syncookies.x")
		}
		sc.Sysctls = append(sc.Sysctls, corev1.Sysctl{Name: name, Value: "1"})
	}
	return sc
}

func (g *podGen) volume(name string) corev1.Volume {
	v := corev1.Volume{Name: name}
	s := &v.VolumeSource
	if g.deviate() {
		switch g.r.IntN(8) {
		case 0, 1:
			s.HostPath = &corev1.HostPathVolumeSource{Path: "/var/run"}
		case 2:
			s.NFS = &corev1.NFSVolumeSource{Server: "nfs", Path: "/"}
		case 3:
			s.GitRepo = &corev1.GitRepoVolumeSource{Repository: "https://example.com/r.git"}
		case 4:
			s.ISCSI = &corev1.ISCSIVolumeSource{TargetPortal: "t", IQN: "i", Lun: 1}
		case 5:
			s.AWSElasticBlockStore = &corev1.AWSElasticBlockStoreVolumeSource{VolumeID: "v"}
		case 6:
			s.FlexVolume = &corev1.FlexVolumeSource{Driver: "d"}
		case 7:
			s.CephFS = &corev1.CephFSVolumeSource{Monitors: []string{"m"}}
		}
		return v
	}
	switch g.r.IntN(9) {
	case 0:
		s.ConfigMap = &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "c"}}
	case 1:
		s.Secret = &corev1.SecretVolumeSource{SecretName: "s"}
	case 2:
		s.EmptyDir = &corev1.EmptyDirVolumeSource{}
	case 3:
		s.DownwardAPI = &corev1.DownwardAPIVolumeSource{}
	case 4:
		s.Projected = &corev1.ProjectedVolumeSource{}
	case 5:
		s.PersistentVolumeClaim = &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "c"}
	case 6:
		s.CSI = &corev1.CSIVolumeSource{Driver: "d"}
	case 7:
		s.Ephemeral = &corev1.EphemeralVolumeSource{}
	case 8:
		s.Image = &corev1.ImageVolumeSource{Reference: "img:1"}
	}
	return v
}

func (g *podGen) capabilities() *corev1.Capabilities {
	caps := &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}
	if g.deviate() {
		caps.Drop = oneOf(g, nil, []corev1.Capability{"NET_RAW"}, []corev1.Capability{"all"})
	}
	if g.chance(0.2) {
		caps.Add = append(caps.Add, "NET_BIND_SERVICE")
	}
	for range g.r.IntN(2) {
		if g.deviate() {
			caps.Add = append(caps.Add, oneOf[corev1.Capability](g, "CHOWN", "KILL", "SETUID", "SYS_ADMIN",
				"NET_RAW", "chown", "CAP_SYS_ADMIN", "ALL"))
		}
	}
	return caps
}

func (g *podGen) securityContext() *corev1.SecurityContext {
	sc := &corev1.SecurityContext{
		AllowPrivilegeEscalation: ptr(false),
		Capabilities:             g.capabilities(),
		SeccompProfile:           g.seccomp(false),
		AppArmorProfile:          g.appArmor(),
		SELinuxOptions:           g.seLinux(),
		RunAsNonRoot:             g.runAsNonRoot(false),
		RunAsUser:                g.runAsUser(),
		WindowsOptions:           g.hostProcess(),
	}
	if g.deviate() {
		sc.AllowPrivilegeEscalation = oneOf(g, nil, ptr(true))
	}
	if g.deviate() {
		sc.Capabilities = nil
	}
	if g.deviate() {
		sc.Privileged = ptr(true)
	} else if g.chance(0.1) {
		sc.Privileged = ptr(false)
	}
	if g.deviate() {
		sc.ProcMount = ptr(oneOf(g, corev1.UnmaskedProcMount, corev1.ProcMountType("")))
	} else if g.chance(0.1) {
		sc.ProcMount = ptr(corev1.DefaultProcMount)
	}
	return sc
}

func (g *podGen) handler() (*corev1.HTTPGetAction, *corev1.TCPSocketAction) {
	host := ""
	if g.deviate() {
		host = oneOf(g, "bad.host", "127.0.0.1", "::1")
	}
	if g.chance(0.5) {
		return &corev1.HTTPGetAction{Path: "/healthz", Host: host}, nil
	}
	return nil, &corev1.TCPSocketAction{Host: host}
}

func (g *podGen) probe() *corev1.Probe {
	if g.chance(0.6) {
		return nil
	}
	p := &corev1.Probe{}
	p.HTTPGet, p.TCPSocket = g.handler()
	return p
}

func (g *podGen) lifecycleHandler() *corev1.LifecycleHandler {
	if g.chance(0.7) {
		return nil
	}
	h := &corev1.LifecycleHandler{}
	h.HTTPGet, h.TCPSocket = g.handler()
	return h
}

func (g *podGen) container(name string) *corev1.Container {
	c := &corev1.Container{Name: name, Image: "registry.example/app:1"}
	if !g.deviate() {
		c.SecurityContext = g.securityContext()
	}
	for range g.r.IntN(3) {
		p := corev1.ContainerPort{ContainerPort: int32(1000 + g.r.IntN(10))}
		if g.deviate() {
			p.HostPort = oneOf[int32](g, 80, 8080, 9, 10)
		}
		c.Ports = append(c.Ports, p)
	}
	c.LivenessProbe, c.ReadinessProbe, c.StartupProbe = g.probe(), g.probe(), g.probe()
	if pre, post := g.lifecycleHandler(), g.lifecycleHandler(); pre != nil || post != nil {
		c.Lifecycle = &corev1.Lifecycle{PreStop: pre, PostStart: post}
	}
	return c
}
