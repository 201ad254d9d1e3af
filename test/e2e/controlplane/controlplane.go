package controlplane

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// Timeouts for each of kube-apiserver and etcd, longer than envtest's 20s
// defaults: on a busy two-core machine kube-apiserver's post-start hooks alone
// can take that long. envtest's own variables, when set, still win.
const (
	startTimeout = 2 * time.Minute
	stopTimeout  = time.Minute

	envStartTimeout  = "KUBEBUILDER_CONTROLPLANE_START_TIMEOUT"
	envStopTimeout   = "KUBEBUILDER_CONTROLPLANE_STOP_TIMEOUT"
	envAttachOutput  = "KUBEBUILDER_ATTACH_CONTROL_PLANE_OUTPUT"
	outputTailLength = 16 << 10
)

// Env is a running control plane.
type Env struct {
	// Config is a client configuration for an administrator (system:masters).
	Config *rest.Config
	// Clientset is a client-go clientset built from Config.
	Clientset kubernetes.Interface
	// Kubeconfig is the path of a kubeconfig file for Config, for kubectl.
	Kubeconfig string
}

// Start starts etcd and kube-apiserver and returns once the API server serves
// the default namespace. When t's test ends they are stopped and their data is
// removed; if the test failed, the tail of their output is logged.
//
// Each call starts a control plane of its own, which takes a few seconds:
// share one between the subtests of a test where they can.
func Start(t testing.TB, opts ...Option) *Env {
	t.Helper()

	dir, err := binaryDir()
	if err != nil {
		t.Fatalf("finding the control plane binaries: %v", err)
	}
	if missing := missingBinaries(dir); len(missing) > 0 {
		msg := "control plane binaries missing from " + dir + " (" + strings.Join(missing, ", ") +
			"): run `make controlplane` to build them"
		if inCI() {
			t.Fatal(msg + " (CI is set, so this is a failure, not a skip)")
		}
		t.Skip(msg)
	}

	apiserverOut, etcdOut := &tailBuffer{max: outputTailLength}, &tailBuffer{max: outputTailLength}
	env := &envtest.Environment{
		BinaryAssetsDirectory: dir,
		ControlPlane: envtest.ControlPlane{
			APIServer: &envtest.APIServer{},
			Etcd:      &envtest.Etcd{},
		},
	}
	for _, opt := range opts {
		opt(env)
	}
	if os.Getenv(envAttachOutput) != "true" {
		env.ControlPlane.APIServer.Out, env.ControlPlane.APIServer.Err = apiserverOut, apiserverOut
		env.ControlPlane.Etcd.Out, env.ControlPlane.Etcd.Err = etcdOut, etcdOut
	}
	if os.Getenv(envStartTimeout) == "" {
		env.ControlPlaneStartTimeout = startTimeout
	}
	if os.Getenv(envStopTimeout) == "" {
		env.ControlPlaneStopTimeout = stopTimeout
	}
	logOutput := func() {
		t.Logf("etcd output (tail):\n%s", etcdOut)
		t.Logf("kube-apiserver output (tail):\n%s", apiserverOut)
	}

	cfg, err := env.Start()
	if err != nil {
		// Start may have left a process running: stop whatever it started.
		if stopErr := env.Stop(); stopErr != nil {
			t.Logf("stopping the control plane after a failed start: %v", stopErr)
		}
		logOutput()
		t.Fatalf("starting the control plane from %s: %v", dir, err)
	}
	t.Cleanup(func() {
		if err := env.Stop(); err != nil {
			t.Errorf("stopping the control plane: %v", err)
		}
		if t.Failed() {
			logOutput()
		}
	})

	clientset, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatalf("building a clientset: %v", err)
	}
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kubeconfig, env.KubeConfig, 0o600); err != nil {
		t.Fatalf("writing the kubeconfig: %v", err)
	}
	return &Env{Config: cfg, Clientset: clientset, Kubeconfig: kubeconfig}
}

// Kubectl returns a kubectl command against the control plane, bound to t's
// context: the kubectl that `make controlplane` builds into bin/k8s (of the
// control plane's release), or else one on the PATH. It skips t when there is
// neither.
func (e *Env) Kubectl(t testing.TB, args ...string) *exec.Cmd {
	t.Helper()
	path, err := KubectlPath()
	if err != nil {
		t.Skipf("kubectl is not built (make controlplane) nor installed: %v", err)
	}
	return exec.CommandContext(t.Context(), path, append([]string{"--kubeconfig", e.Kubeconfig}, args...)...)
}

// KubectlPath is the kubectl that Kubectl runs.
func KubectlPath() (string, error) {
	if built, err := BuiltKubectl(); err == nil {
		return built, nil
	}
	return exec.LookPath("kubectl")
}

// BuiltKubectl is the kubectl of the control plane's release that `make controlplane` builds into
// bin/k8s (or KUBEBUILDER_ASSETS), for tests that compare with kubectl's own output.
func BuiltKubectl() (string, error) {
	dir, err := binaryDir()
	if err != nil {
		return "", err
	}
	built := filepath.Join(dir, "kubectl")
	if info, err := os.Stat(built); err != nil || info.IsDir() {
		return "", fmt.Errorf("no kubectl in %s: run `make controlplane` to build it", dir)
	}
	return built, nil
}

// InCI reports whether the tests run in CI, where a missing binary is a failure, not a skip.
func InCI() bool { return inCI() }

// Option changes the control plane that Start starts.
type Option func(*envtest.Environment)

// WithAPIServerFlags sets kube-apiserver flags, by name without dashes: for instance
// {"audit-log-path": path, "audit-policy-file": policy}.
func WithAPIServerFlags(flags map[string]string) Option {
	return func(env *envtest.Environment) {
		args := env.ControlPlane.APIServer.Configure()
		for name, value := range flags {
			args.Set(name, value)
		}
	}
}
