package rbacsim

import (
	"bytes"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// The diff benchmark's worlds: the benchmark model's 25,000 objects plus 2,500 more bindings
// (500 ClusterRoleBindings, 2,000 RoleBindings), 27,500 objects; NEW is OLD after a large pull
// request: 600 roles edited (a rule added, removed or replaced), 300 bindings given a subject,
// 100 bindings pointed at another role and 100 deleted.
const (
	diffBenchExtraCRBs = 500
	diffBenchExtraRBs  = 2000
	diffBenchEdits     = 200
)

var diffBenchObjects = sync.OnceValue(func() *Objects {
	objs, err := Parse("bench.yaml", benchManifests())
	if err != nil {
		panic(err)
	}
	r := rand.New(rand.NewSource(3))
	var b strings.Builder
	for i := 0; i < diffBenchExtraCRBs; i++ {
		fmt.Fprintf(&b, "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: extra-crb-%d}\n", i)
		fmt.Fprintf(&b, "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cr-%d}\n", r.Intn(benchClusterRoles))
		benchSubjects(r, &b, "")
	}
	for i := 0; i < diffBenchExtraRBs; i++ {
		ns := fmt.Sprintf("ns-%d", r.Intn(benchNamespaces))
		fmt.Fprintf(&b, "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: extra-rb-%d, namespace: %s}\n", i, ns)
		fmt.Fprintf(&b, "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cr-%d}\n", r.Intn(benchClusterRoles))
		benchSubjects(r, &b, ns)
	}
	extra, err := Parse("extra.yaml", []byte(b.String()))
	if err != nil {
		panic(err)
	}
	objs.Append(extra)
	return objs
})

// diffBenchNew copies the objects and edits them.
func diffBenchNew(old *Objects) *Objects {
	o := &Objects{Sources: old.Sources}
	for _, x := range old.Roles {
		o.Roles = append(o.Roles, x.DeepCopy())
	}
	for _, x := range old.ClusterRoles {
		o.ClusterRoles = append(o.ClusterRoles, x.DeepCopy())
	}
	for _, x := range old.RoleBindings {
		o.RoleBindings = append(o.RoleBindings, x.DeepCopy())
	}
	for _, x := range old.ClusterRoleBindings {
		o.ClusterRoleBindings = append(o.ClusterRoleBindings, x.DeepCopy())
	}
	r := rand.New(rand.NewSource(4))
	rule := func() rbacv1.PolicyRule {
		res := benchResources[r.Intn(len(benchResources))]
		return rbacv1.PolicyRule{APIGroups: []string{benchGroupsOf[res]}, Resources: []string{res}, Verbs: []string{benchVerbs[r.Intn(len(benchVerbs))]}}
	}
	roleRules := func() *[]rbacv1.PolicyRule {
		if r.Intn(5) == 0 {
			return &o.ClusterRoles[r.Intn(len(o.ClusterRoles))].Rules
		}
		return &o.Roles[r.Intn(len(o.Roles))].Rules
	}
	for i := 0; i < diffBenchEdits; i++ {
		rules := roleRules()
		*rules = append(*rules, rule())
		if rules = roleRules(); len(*rules) > 0 {
			*rules = (*rules)[1:]
		}
		if rules = roleRules(); len(*rules) > 0 {
			(*rules)[r.Intn(len(*rules))] = rule()
		}
	}
	for i := 0; i < 300; i++ {
		b := o.RoleBindings[r.Intn(len(o.RoleBindings))]
		b.Subjects = append(b.Subjects, rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: fmt.Sprintf("user-%d", r.Intn(benchUsers))})
	}
	for i := 0; i < 100; i++ {
		b := o.ClusterRoleBindings[r.Intn(len(o.ClusterRoleBindings))]
		b.RoleRef.Name = fmt.Sprintf("cr-%d", r.Intn(benchClusterRoles))
	}
	for i := 0; i < 100; i++ {
		j := r.Intn(len(o.RoleBindings))
		o.RoleBindings = append(o.RoleBindings[:j], o.RoleBindings[j+1:]...)
	}
	return o
}

func BenchmarkDiff(b *testing.B) {
	oldObjs := diffBenchObjects()
	newObjs := diffBenchNew(oldObjs)
	oldM, newM := NewModel(oldObjs), NewModel(newObjs)
	n := len(oldObjs.Roles) + len(oldObjs.ClusterRoles) + len(oldObjs.RoleBindings) + len(oldObjs.ClusterRoleBindings)
	if n != 27500 {
		b.Fatalf("the OLD world has %d objects, want 27,500", n)
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu := processCPU()
	var changes []Change
	for i := 0; i < b.N; i++ {
		changes = Diff(oldM, newM)
	}
	reportCPU(b, processCPU()-cpu, "diffs")
	risky := 0
	for _, c := range changes {
		if c.Risky {
			risky++
		}
	}
	b.ReportMetric(float64(len(changes)), "changes")
	b.ReportMetric(float64(risky), "risky")
}

var writeDiffWorlds = flag.String("write-diff-worlds", "", "write the diff benchmark's OLD and NEW worlds as old.yaml and new.yaml into this folder (for timing `verdict rbac diff`)")

// writeWorld writes objects as one YAML file in the block style kubectl and kustomize write.
func writeWorld(tb testing.TB, file string, o *Objects) {
	tb.Helper()
	var b bytes.Buffer
	write := func(obj any, apiVersion, kind string) {
		data, err := yaml.Marshal(obj)
		if err != nil {
			tb.Fatal(err)
		}
		fmt.Fprintf(&b, "---\napiVersion: %s\nkind: %s\n", apiVersion, kind)
		b.Write(data)
	}
	const v = "rbac.authorization.k8s.io/v1"
	for _, x := range o.ClusterRoles {
		write(struct {
			Metadata metav1.ObjectMeta   `json:"metadata"`
			Rules    []rbacv1.PolicyRule `json:"rules"`
		}{x.ObjectMeta, x.Rules}, v, "ClusterRole")
	}
	for _, x := range o.Roles {
		write(struct {
			Metadata metav1.ObjectMeta   `json:"metadata"`
			Rules    []rbacv1.PolicyRule `json:"rules"`
		}{x.ObjectMeta, x.Rules}, v, "Role")
	}
	for _, x := range o.ClusterRoleBindings {
		write(struct {
			Metadata metav1.ObjectMeta `json:"metadata"`
			RoleRef  rbacv1.RoleRef    `json:"roleRef"`
			Subjects []rbacv1.Subject  `json:"subjects"`
		}{x.ObjectMeta, x.RoleRef, x.Subjects}, v, "ClusterRoleBinding")
	}
	for _, x := range o.RoleBindings {
		write(struct {
			Metadata metav1.ObjectMeta `json:"metadata"`
			RoleRef  rbacv1.RoleRef    `json:"roleRef"`
			Subjects []rbacv1.Subject  `json:"subjects"`
		}{x.ObjectMeta, x.RoleRef, x.Subjects}, v, "RoleBinding")
	}
	if err := os.WriteFile(file, b.Bytes(), 0o644); err != nil {
		tb.Fatal(err)
	}
}

func writeDiffBenchWorlds(tb testing.TB, dir string) (oldFile, newFile string) {
	oldObjs := diffBenchObjects()
	oldFile, newFile = filepath.Join(dir, "old.yaml"), filepath.Join(dir, "new.yaml")
	writeWorld(tb, oldFile, oldObjs)
	writeWorld(tb, newFile, diffBenchNew(oldObjs))
	return oldFile, newFile
}

func TestWriteDiffWorlds(t *testing.T) {
	if *writeDiffWorlds == "" {
		t.Skip("only with -write-diff-worlds DIR")
	}
	writeDiffBenchWorlds(t, *writeDiffWorlds)
}

// BenchmarkDiffFiles is `rbac diff old.yaml new.yaml` without the printing: both worlds read from
// block-style YAML files (27,500 objects each), their models built, and the diff.
func BenchmarkDiffFiles(b *testing.B) {
	oldFile, newFile := writeDiffBenchWorlds(b, b.TempDir())
	b.ReportAllocs()
	b.ResetTimer()
	cpu := processCPU()
	for i := 0; i < b.N; i++ {
		oldObjs, err := ReadPaths([]string{oldFile}, nil)
		if err != nil {
			b.Fatal(err)
		}
		newObjs, err := ReadPaths([]string{newFile}, nil)
		if err != nil {
			b.Fatal(err)
		}
		if changes := Diff(NewModel(oldObjs), NewModel(newObjs)); len(changes) == 0 {
			b.Fatal("no changes")
		}
	}
	reportCPU(b, processCPU()-cpu, "diffs")
}
