package source

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/verdict-dev/verdict/internal/fixtures"
	"github.com/verdict-dev/verdict/internal/testkit"
	"github.com/verdict-dev/verdict/policies"
	"github.com/verdict-dev/verdict/policies/bundle"
)

// denials are the denial texts of the set in force for the CREATE of a Deployment of that many
// replicas and those labels, as the webhook joins them into its answer.
func denials(t *testing.T, set *PolicySet, replicas int, labels map[string]string) []string {
	t.Helper()
	b := set.Current()
	if b == nil {
		t.Fatal("no set in force")
	}
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": "web", "namespace": "default"},
		"spec": map[string]any{"replicas": int64(replicas), "selector": map[string]any{"matchLabels": map[string]any{"app": "web"}},
			"template": map[string]any{"metadata": map[string]any{"labels": map[string]any{"app": "web"}},
				"spec": map[string]any{"containers": []any{map[string]any{"name": "web", "image": "nginx:1.27"}}}}},
	}}
	if labels != nil {
		obj.SetLabels(labels)
	}
	req, err := bundle.RequestFor(b.Resources(), obj, policies.Create, "")
	if err != nil {
		t.Fatal(err)
	}
	out := b.Validate(context.Background(), req)
	var texts []string
	for _, f := range out.Findings {
		if f.Action == policies.Deny {
			texts = append(texts, f.Text)
		}
	}
	return texts
}

// admits says whether the set in force allows a Deployment of that many replicas.
func admits(t *testing.T, set *PolicySet, replicas int) bool {
	t.Helper()
	return len(denials(t, set, replicas, nil)) == 0
}

// loads counts what a PolicySet tells its LoadObserver.
type loads struct {
	loaded int
	failed map[string]int
}

func (l *loads) Loaded(int64, int) { l.loaded++ }

func (l *loads) LoadFailed(reason string) {
	if l.failed == nil {
		l.failed = map[string]int{}
	}
	l.failed[reason]++
}

// watch runs the set's watch until the test ends, looking for folders again every 100ms.
func watch(t *testing.T, set *PolicySet) {
	t.Helper()
	set.rescan = 100 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- set.Watch(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	<-set.Watching()
}

func mkdir(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

func TestSymlinkedPolicyRoot(t *testing.T) {
	dir := t.TempDir()
	folder, link := filepath.Join(dir, "folder"), filepath.Join(dir, "link-to-folder")
	mkdir(t, folder)
	writePolicy(t, filepath.Join(folder, "p.yaml"), "5")
	symlink(t, folder, link)
	set := NewPolicySet(bundle.Options{Paths: []string{link}}, logr.Discard(), nil)
	watch(t, set)
	if err := set.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	if admits(t, set, 6) {
		t.Fatal("the policy in the symlinked folder is not in force")
	}

	// The resolved folder is watched.
	writePolicy(t, filepath.Join(folder, "p.yaml"), "10")
	testkit.WaitFor(t, 10*time.Second, "generation 2", func() bool { return set.Generation() == 2 })
	if !admits(t, set, 6) {
		t.Fatal("the changed policy (at most 10) is not in force")
	}

	// Deleted, the folder's policies stay in force; made again, it is watched again.
	if err := os.RemoveAll(folder); err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, 10*time.Second, "the reload error", func() bool { return set.ReloadError() != nil })
	if !admits(t, set, 6) || admits(t, set, 11) {
		t.Fatal("the set in force changed when its folder was deleted")
	}
	mkdir(t, folder)
	writePolicy(t, filepath.Join(folder, "p.yaml"), "1")
	testkit.WaitFor(t, 10*time.Second, "generation 3", func() bool { return set.Generation() == 3 })
	if admits(t, set, 2) {
		t.Fatal("the policy of the folder made again (at most 1) is not in force")
	}
	writePolicy(t, filepath.Join(folder, "p.yaml"), "3")
	testkit.WaitFor(t, 10*time.Second, "generation 4", func() bool { return set.Generation() == 4 })
	if set.ReloadError() != nil || !admits(t, set, 2) {
		t.Fatalf("the folder made again is not watched: %v", set.ReloadError())
	}
}

// TestConfigMapMount updates a folder as the kubelet updates a mounted ConfigMap: the files are
// symlinks into ..data, itself a symlink to a hidden timestamped folder, swapped by rename.
func TestConfigMapMount(t *testing.T) {
	dir := t.TempDir()
	mkdir(t, filepath.Join(dir, "..2026_01_01_00_00_00.1"))
	writePolicy(t, filepath.Join(dir, "..2026_01_01_00_00_00.1", "p.yaml"), "5")
	symlink(t, "..2026_01_01_00_00_00.1", filepath.Join(dir, "..data"))
	symlink(t, filepath.Join("..data", "p.yaml"), filepath.Join(dir, "p.yaml"))
	set := NewPolicySet(bundle.Options{Paths: []string{dir}}, logr.Discard(), nil)
	watch(t, set)
	if err := set.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	if admits(t, set, 6) {
		t.Fatal("the mounted policy is not in force")
	}

	mkdir(t, filepath.Join(dir, "..2026_01_01_00_01_00.2"))
	writePolicy(t, filepath.Join(dir, "..2026_01_01_00_01_00.2", "p.yaml"), "10")
	symlink(t, "..2026_01_01_00_01_00.2", filepath.Join(dir, "..data_tmp"))
	if err := os.Rename(filepath.Join(dir, "..data_tmp"), filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(dir, "..2026_01_01_00_00_00.1")); err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, 10*time.Second, "generation 2", func() bool { return set.Generation() == 2 })
	if !admits(t, set, 6) || set.ReloadError() != nil {
		t.Fatalf("the updated ConfigMap (at most 10) is not in force: %v", set.ReloadError())
	}
}

const regoPolicy = `package replicas.PKG

import rego.v1

deny contains msg if {
	input.spec.replicas > 5
	msg := "too many"
}
`

func TestReloadRefusals(t *testing.T) {
	tests := []struct {
		name   string
		files  map[string]string // the files of the set in force
		change func(t *testing.T, dir string)
		reason string
		want   string
	}{
		{
			name:   "the only file emptied",
			files:  map[string]string{"p.yaml": fixtures.ReplicasPolicy("MAX")},
			change: func(t *testing.T, dir string) { testkit.WriteFile(t, filepath.Join(dir, "p.yaml"), "") },
			reason: FailEmpty, want: "hold no policy",
		},
		{
			name:   "one file of two emptied",
			files:  map[string]string{"a.yaml": fixtures.ReplicasPolicy("MAX"), "b.rego": strings.Replace(regoPolicy, "PKG", "b", 1)},
			change: func(t *testing.T, dir string) { testkit.WriteFile(t, filepath.Join(dir, "a.yaml"), "# soon\n") },
			reason: FailLost, want: "a.yaml is empty",
		},
		{
			name:  "one file of two removed",
			files: map[string]string{"a.yaml": fixtures.ReplicasPolicy("MAX"), "b.rego": strings.Replace(regoPolicy, "PKG", "b", 1)},
			change: func(t *testing.T, dir string) {
				if err := os.Remove(filepath.Join(dir, "a.yaml")); err != nil {
					t.Fatal(err)
				}
			},
			reason: FailLost, want: "a.yaml is gone",
		},
		{
			name:  "a Rego package renamed",
			files: map[string]string{"a.yaml": fixtures.ReplicasPolicy("MAX"), "b.rego": strings.Replace(regoPolicy, "PKG", "b", 1)},
			change: func(t *testing.T, dir string) {
				testkit.WriteFile(t, filepath.Join(dir, "b.rego"), strings.Replace(regoPolicy, "PKG", "c", 1))
			},
			reason: FailLost, want: "Rego package replicas.b (of ",
		},
		{
			name:  "a policy that does not compile",
			files: map[string]string{"a.yaml": fixtures.ReplicasPolicy("MAX")},
			change: func(t *testing.T, dir string) {
				testkit.WriteFile(t, filepath.Join(dir, "a.yaml"), strings.Replace(fixtures.ReplicasPolicy("MAX"), "<= MAX", "<=", 1))
			},
			reason: FailCompile, want: "a.yaml",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, text := range tc.files {
				testkit.WriteFile(t, filepath.Join(dir, name), strings.Replace(text, "MAX", "5", 1))
			}
			obs := &loads{}
			set := NewPolicySet(bundle.Options{Paths: []string{dir}}, logr.Discard(), obs)
			if err := set.Load(context.Background()); err != nil {
				t.Fatal(err)
			}
			inForce := set.Current()
			tc.change(t, dir)
			err := set.Load(context.Background())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("reload: %v, want an error with %q", err, tc.want)
			}
			if set.Current() != inForce || set.Generation() != 1 || admits(t, set, 6) {
				t.Error("a failed reload changed the set in force")
			}
			if rerr := set.ReloadError(); rerr == nil || !strings.Contains(rerr.Error(), tc.want) {
				t.Errorf("ReloadError() = %v, want it to say %q", rerr, tc.want)
			}
			if got := obs.failed; len(got) != 1 || (tc.reason != FailCompile && got[tc.reason] != 1) {
				t.Errorf("failed loads told = %v, want 1 (of reason %s)", got, tc.reason)
			}
			if le, ok := err.(*loadError); tc.reason != FailCompile && (!ok || le.reason != tc.reason) {
				t.Errorf("reason %v, want %s", err, tc.reason)
			}
		})
	}
}

func TestEmptyAtStart(t *testing.T) {
	dir := t.TempDir()
	testkit.WriteFile(t, filepath.Join(dir, "empty.yaml"), "")
	set := NewPolicySet(bundle.Options{Paths: []string{dir}}, logr.Discard(), nil)
	if err := set.Load(context.Background()); err == nil || !strings.Contains(err.Error(), "--allow-empty") {
		t.Errorf("loading no policy: %v, want an error that names --allow-empty", err)
	}
	set.AllowEmpty()
	if err := set.Load(context.Background()); err != nil || set.Current() == nil {
		t.Errorf("loading no policy with allowEmpty: %v", err)
	}
}

func TestRegoPackage(t *testing.T) {
	for src, want := range map[string]string{
		"package a.b\n":                     "a.b",
		"# a comment\n\npackage x # why\n":  "x",
		"  package\tkubernetes.admission\n": "kubernetes.admission",
		"import rego.v1\npackage x\n":       "",
		"packages x\n":                      "",
		"":                                  "",
	} {
		if got := regoPackage([]byte(src)); got != want {
			t.Errorf("regoPackage(%q) = %q, want %q", src, got, want)
		}
	}
}

func writePolicy(t *testing.T, path, max string) {
	t.Helper()
	testkit.WriteFile(t, path, fixtures.ReplicasPolicy(max))
}
