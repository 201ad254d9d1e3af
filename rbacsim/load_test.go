package rbacsim

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/verdict-dev/verdict/manifest"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name                        string
		input                       string
		roles, crs, rbs, crbs, crds int
		notes                       []string
		err                         string
	}{
		{name: "multi-document", input: teamRBAC, roles: 1, crs: 2, rbs: 3, crbs: 1},
		{name: "empty documents and comments", input: "---\n# nothing\n---\n\n---\n" + teamRBAC + "\n---\n", roles: 1, crs: 2, rbs: 3, crbs: 1},
		{name: "kubectl get -o yaml dump", input: `
apiVersion: v1
kind: List
metadata: {resourceVersion: ""}
items:
- apiVersion: rbac.authorization.k8s.io/v1
  kind: ClusterRole
  metadata: {name: a, uid: 0b7c, resourceVersion: "12", creationTimestamp: "2024-01-01T00:00:00Z", managedFields: [{manager: kubectl, operation: Update}]}
  rules: [{apiGroups: [""], resources: [pods], verbs: [get]}]
- apiVersion: v1
  kind: ServiceAccount
  metadata: {name: sa, namespace: x}
`, crs: 1, notes: []string{`test.yaml:2: document 1, items[1] (ServiceAccount "x/sa"): skipped, not an RBAC object`}},
		{name: "typed list without item kinds", input: `
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBindingList
items:
- metadata: {name: a, namespace: x}
  roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: r}
  subjects: [{kind: User, name: u}]
`, rbs: 1},
		{name: "JSON", input: `{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRoleBinding","metadata":{"name":"b"},
"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"r"},"subjects":[{"kind":"Group","name":"g"}]}`, crbs: 1},
		{name: "CRD", input: `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  names: {plural: widgets, singular: widget, kind: Widget, shortNames: [wd]}
  scope: Namespaced
  versions: [{name: v1, served: true, storage: true, subresources: {status: {}}}]
`, crds: 1},
		{name: "resourceNames with several resources", // kube-apiserver accepts it: each name applies to each resource
			input: "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: r}\nrules: [{apiGroups: [''], resources: [pods, secrets], resourceNames: [web], verbs: [get]}]\n", crs: 1},
		{name: "non-RBAC skipped", input: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: ns1}\n",
			notes: []string{`test.yaml:1: document 1 (ConfigMap "ns1/c"): skipped, not an RBAC object`}},
		{name: "no kind in a named file", input: "replicas: 3\n", err: "test.yaml:1: document 1: missing kind"},
		{name: "other group's Role skipped", input: "apiVersion: example.com/v1\nkind: Role\nmetadata: {name: r}\n",
			notes: []string{`test.yaml:1: document 1 (Role "r"): skipped, not an RBAC object`}},
		{name: "bad YAML", input: teamRBAC + "\n---\nkind: [\n", err: "test.yaml:53: document 8: invalid YAML"},
		{name: "not a mapping", input: "- a\n- b\n", err: "test.yaml:1: document 1: a manifest must be an object with apiVersion and kind, not a list"},
		{name: "rules of the wrong type", input: "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: r}\nrules: nope\n",
			err: `test.yaml:1: document 1 (ClusterRole "r"): rules: expected array, got string "nope"`},
		{name: "unknown field", input: "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: r}\nrulez: []\n",
			err: `unknown field "rulez"`},
		{name: "rule without verbs", input: "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: r, namespace: ns1}\nrules: [{apiGroups: [''], resources: [pods]}]\n",
			err: `test.yaml:1: document 1 (Role "ns1/r"): rules[0].verbs: Required value: verbs must contain at least one value`},
		{name: "URL in a Role", input: "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: r}\nrules: [{nonResourceURLs: [/x], verbs: [get]}]\n",
			err: "namespaced rules cannot apply to non-resource URLs"},
		{name: "resource rule without group", input: "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: r}\nrules: [{resources: [pods], verbs: [get]}]\n",
			err: "rules[0].apiGroups: Required value"},
		{name: "ClusterRoleBinding to a Role", input: "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: b}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: r}\n",
			err: `roleRef.kind: Unsupported value: "Role"`},
		{name: "ClusterRoleBinding SA without namespace", input: "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: b}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: r}\nsubjects: [{kind: ServiceAccount, name: sa}]\n",
			err: "subjects[0].namespace: Required value"},
		{name: "unknown subject kind", input: "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: b}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: r}\nsubjects: [{kind: Robot, name: r2}]\n",
			err: `subjects[0].kind: Unsupported value: "Robot"`},
		{name: "no name", input: "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {}\n", err: "metadata.name: Required value"},
		{name: "bad list item", input: "apiVersion: v1\nkind: List\nitems: [3]\n", err: "test.yaml:1: document 1: List: items[0]: expected object, got number 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs, err := Parse("test.yaml", []byte(tt.input))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want one containing %q", err, tt.err)
				}
				var de *DocumentError
				var me *manifest.Error
				if !errors.As(err, &de) && !errors.As(err, &me) {
					t.Errorf("err is %T, want a *DocumentError or a *manifest.Error", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := []int{len(objs.Roles), len(objs.ClusterRoles), len(objs.RoleBindings), len(objs.ClusterRoleBindings), len(objs.CRDs)}
			want := []int{tt.roles, tt.crs, tt.rbs, tt.crbs, tt.crds}
			for i := range got {
				if got[i] != want[i] {
					t.Errorf("counts (roles, clusterroles, rolebindings, clusterrolebindings, crds) = %v, want %v", got, want)
					break
				}
			}
			if strings.Join(objs.Notes, "\n") != strings.Join(tt.notes, "\n") {
				t.Errorf("notes = %q, want %q", objs.Notes, tt.notes)
			}
		})
	}
}

func TestParseDefaults(t *testing.T) {
	objs, err := Parse("t.yaml", []byte(`
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: b}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: r}
subjects: [{kind: User, name: u}, {kind: ServiceAccount, name: sa}]
`))
	if err != nil {
		t.Fatal(err)
	}
	b := objs.RoleBindings[0]
	if b.Namespace != "default" {
		t.Errorf("namespace = %q, want default", b.Namespace)
	}
	if b.Subjects[0].APIGroup != "rbac.authorization.k8s.io" || b.Subjects[1].APIGroup != "" {
		t.Errorf("subject API groups = %q, %q", b.Subjects[0].APIGroup, b.Subjects[1].APIGroup)
	}
	if src := objs.Sources[b]; src.String() != "t.yaml:2: document 1" {
		t.Errorf("source = %q", src)
	}
}

func TestReadPaths(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a/roles.yaml", teamRBAC)
	write("a/b/more.yml", "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: x}\n")
	write("a/b/c.json", `{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{"name":"y"}}`)
	write("a/README.md", "not yaml: [")
	stdin := strings.NewReader("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: z}\n")
	objs, err := ReadPaths([]string{filepath.Join(dir, "a"), "-"}, stdin)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range objs.ClusterRoles {
		names = append(names, r.Name+"@"+filepath.Base(objs.Sources[r].File))
	}
	want := "y@c.json x@more.yml pod-reader@roles.yaml node-viewer@roles.yaml z@-"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("cluster roles = %q, want %q", got, want)
	}

	if _, err := ReadPaths([]string{filepath.Join(dir, "missing")}, nil); err == nil {
		t.Error("missing path: no error")
	}
	if _, err := ReadPaths([]string{"-", "-"}, strings.NewReader("")); err == nil {
		t.Error("stdin twice: no error")
	}
	write("bad/x.yaml", teamRBAC+"\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: r}\nrules: [{verbs: []}]\n")
	_, err = ReadPaths([]string{filepath.Join(dir, "bad")}, nil)
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "bad", "x.yaml")+":53: document 8 (Role \"r\")") {
		t.Errorf("err = %v, want it to name the file, line and document 8", err)
	}
}

func TestDefaultObjects(t *testing.T) {
	objs, err := DefaultObjects()
	if err != nil {
		t.Fatal(err)
	}
	m := NewModel(objs)
	for _, name := range []string{"cluster-admin", "admin", "edit", "view", "system:discovery", "system:basic-user", "system:public-info-viewer"} {
		if m.ClusterRole(name) == nil {
			t.Errorf("no default ClusterRole %s", name)
		}
	}
	u, _ := Impersonate("alice", nil)
	tests := []struct {
		name string
		a    func() (bool, string)
		want bool
	}{
		{"discovery for authenticated users", func() (bool, string) {
			return allowed(t, m, attrsURL(u.GetName(), u.GetGroups(), "get", "/apis/apps"))
		}, true},
		{"version for anonymous", func() (bool, string) {
			return allowed(t, m, attrsURL("system:anonymous", []string{"system:unauthenticated"}, "get", "/version"))
		}, true},
		{"no discovery for anonymous", func() (bool, string) {
			return allowed(t, m, attrsURL("system:anonymous", []string{"system:unauthenticated"}, "get", "/apis"))
		}, false},
		{"self access reviews", func() (bool, string) {
			return allowed(t, m, resourceAttrs(u.GetName(), u.GetGroups(), "create", "authorization.k8s.io", "selfsubjectaccessreviews", "", "", ""))
		}, true},
		{"nothing else", func() (bool, string) {
			return allowed(t, m, resourceAttrs(u.GetName(), u.GetGroups(), "get", "", "pods", "", "default", ""))
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, reason := tt.a(); got != tt.want {
				t.Errorf("allowed = %v (%s), want %v", got, reason, tt.want)
			}
		})
	}
	// admin aggregates edit, which aggregates view.
	admin := m.ClusterRole("admin")
	has := func(r *Role, verb, group, resource, sub string) bool {
		req := request{resourceRequest: true, verb: verb, group: group, resource: resource, subresource: sub}
		for i := range r.Rules {
			if ruleAllows(&req, &r.Rules[i]) {
				return true
			}
		}
		return false
	}
	if !has(admin, "create", "rbac.authorization.k8s.io", "rolebindings", "") || !has(admin, "get", "", "pods", "log") || !has(admin, "update", "apps", "deployments", "scale") {
		t.Errorf("admin lacks aggregated rules: %v", admin.Rules)
	}
	if has(m.ClusterRole("view"), "get", "", "secrets", "") {
		t.Error("view may read secrets")
	}
}

// TestFromDocumentsKeepsOrderAndDropsFailedDocuments converts more documents than one run of the
// parallel conversion holds: the objects come out in document order, and a document in error adds
// nothing, not even the note of its old API version.
func TestFromDocumentsKeepsOrderAndDropsFailedDocuments(t *testing.T) {
	var b strings.Builder
	for i := 0; i < 150; i++ {
		fmt.Fprintf(&b, "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: r-%d, namespace: ns}\nrules: []\n", i)
	}
	b.WriteString("---\napiVersion: rbac.authorization.k8s.io/v1beta1\nkind: Role\nmetadata: {name: old, namespace: ns}\nrules: []\n")
	b.WriteString("---\napiVersion: rbac.authorization.k8s.io/v1beta1\nkind: Role\nmetadata: {name: bad, namespace: ns}\nrules: [{verbs: [get], apiGroups: [''], resources: [pods], bogus: 1}]\n")
	objs, errs := FromDocuments(manifest.Decode("roles.yaml", []byte(b.String())).Documents)
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), `Role "ns/bad"`) {
		t.Fatalf("errors %v, want one, of Role ns/bad", errs)
	}
	if len(objs.Roles) != 151 {
		t.Fatalf("%d roles, want 151", len(objs.Roles))
	}
	for i := 0; i < 150; i++ {
		if want := fmt.Sprintf("r-%d", i); objs.Roles[i].Name != want {
			t.Fatalf("role %d is %s, want %s", i, objs.Roles[i].Name, want)
		}
	}
	if len(objs.Notes) != 1 || !strings.Contains(objs.Notes[0], `"old"`) {
		t.Errorf("notes %q, want only the one of Role old", objs.Notes)
	}
}
