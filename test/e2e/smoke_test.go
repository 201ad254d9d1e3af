package e2e

import (
	"encoding/json"
	"errors"
	"os/exec"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/verdict-dev/verdict/test/e2e/controlplane"
)

// wantServerVersion is KUBE_VERSION in the Makefile, which `make controlplane`
// stamps into kube-apiserver.
const wantServerVersion = "v1.37.2"

// TestSmoke checks that the control plane built from source stores and serves
// objects, and reports a version that kubectl can parse.
func TestSmoke(t *testing.T) {
	env := controlplane.Start(t)
	ctx := t.Context()
	cs := env.Clientset

	ns, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{Name: "verdict-smoke"},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating a namespace: %v", err)
	}
	want := map[string]string{"policy": "deny-latest"}
	if _, err := cs.CoreV1().ConfigMaps(ns.Name).Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "settings"},
		Data:       want,
	}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating a configmap: %v", err)
	}

	t.Run("list namespaces", func(t *testing.T) {
		list, err := cs.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatalf("listing namespaces: %v", err)
		}
		var names []string
		for _, item := range list.Items {
			names = append(names, item.Name)
		}
		for _, name := range []string{"default", "kube-system", ns.Name} {
			if !slices.Contains(names, name) {
				t.Errorf("namespace %q not listed; got %v", name, names)
			}
		}
	})

	t.Run("list configmaps", func(t *testing.T) {
		list, err := cs.CoreV1().ConfigMaps(ns.Name).List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatalf("listing configmaps: %v", err)
		}
		i := slices.IndexFunc(list.Items, func(cm corev1.ConfigMap) bool { return cm.Name == "settings" })
		if i < 0 {
			t.Fatalf("configmap %s/settings not listed; got %d items", ns.Name, len(list.Items))
		}
		if diff := cmp.Diff(want, list.Items[i].Data); diff != "" {
			t.Errorf("configmap data (-want +got):\n%s", diff)
		}
	})

	t.Run("server version", func(t *testing.T) {
		info, err := cs.Discovery().ServerVersion()
		if err != nil {
			t.Fatalf("reading the server version: %v", err)
		}
		if info.GitVersion != wantServerVersion {
			t.Errorf("server gitVersion = %q, want %q", info.GitVersion, wantServerVersion)
		}
	})

	t.Run("kubectl version", func(t *testing.T) {
		cmd := env.Kubectl(t, "version", "-o", "json")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: %v\n%s", cmd, err, stderrOf(err))
		}
		var got struct {
			ServerVersion struct {
				GitVersion string `json:"gitVersion"`
				Major      string `json:"major"`
				Minor      string `json:"minor"`
			} `json:"serverVersion"`
		}
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("parsing kubectl's output: %v\n%s", err, out)
		}
		if got.ServerVersion.GitVersion != wantServerVersion {
			t.Errorf("kubectl: serverVersion.gitVersion = %q, want %q\n%s", got.ServerVersion.GitVersion, wantServerVersion, out)
		}
		if got.ServerVersion.Major == "" || got.ServerVersion.Minor == "" {
			t.Errorf("kubectl: serverVersion lacks major or minor\n%s", out)
		}
	})
}

// stderrOf returns what a command that exited non-zero printed on stderr.
func stderrOf(err error) []byte {
	if exitErr, ok := errors.AsType[*exec.ExitError](err); ok {
		return exitErr.Stderr
	}
	return nil
}
