// Command kubeauthz is make compare's baseline for `verdict rbac check`: the same questions answered
// by kube-apiserver's own RBAC authorizer (plugin/pkg/auth/authorizer/rbac, through client-go
// listers as the API server reads its informers) over objects read the plain way, each document by
// sigs.k8s.io/yaml into its rbac/v1 type. It prints how many of the questions are allowed.
//
//	kubeauthz -f world.yaml -checks checks.yaml
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	rbaclisters "k8s.io/client-go/listers/rbac/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/kubernetes/plugin/pkg/auth/authorizer/rbac"
	"sigs.k8s.io/yaml"
)

type check struct {
	As        string   `json:"as"`
	Groups    []string `json:"groups"`
	Verb      string   `json:"verb"`
	Resource  string   `json:"resource"` // resource[.group]
	Namespace string   `json:"namespace"`
	Name      string   `json:"name"`
}

func main() {
	world := flag.String("f", "", "RBAC manifests, one YAML stream")
	checks := flag.String("checks", "", "the questions, a checks file of verdict rbac check")
	flag.Parse()
	authz, err := load(*world)
	if err != nil {
		fail(err)
	}
	data, err := os.ReadFile(*checks)
	if err != nil {
		fail(err)
	}
	var file struct {
		Checks []check `json:"checks"`
	}
	if err := yaml.Unmarshal(data, &file); err != nil {
		fail(err)
	}
	allowed := 0
	for _, c := range file.Checks {
		if d, _, _ := authz.Authorize(context.Background(), attributes(c)); d == authorizer.DecisionAllow {
			allowed++
		}
	}
	fmt.Printf("%d of %d allowed\n", allowed, len(file.Checks))
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "kubeauthz:", err)
	os.Exit(2)
}

// attributes is a check as can-i asks it: impersonated, so every user is also system:authenticated.
func attributes(c check) authorizer.Attributes {
	resource, group, _ := strings.Cut(c.Resource, ".")
	groups := append(append([]string{}, c.Groups...), user.AllAuthenticated)
	if strings.HasPrefix(c.As, "system:serviceaccount:") {
		ns := strings.Split(c.As, ":")[2]
		groups = append(groups, "system:serviceaccounts", "system:serviceaccounts:"+ns)
	}
	return &authorizer.AttributesRecord{User: &user.DefaultInfo{Name: c.As, Groups: groups}, Verb: c.Verb,
		APIGroup: group, Resource: resource, Namespace: c.Namespace, Name: c.Name, ResourceRequest: true}
}

// load reads the RBAC objects of a YAML stream into listers and returns kube's authorizer over them.
func load(path string) (*rbac.RBACAuthorizer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	index := func() cache.Indexer {
		return cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	}
	roles, bindings, clusterRoles, clusterBindings := index(), index(), index(), index()
	for i, doc := range bytes.Split(data, []byte("\n---")) {
		var meta struct {
			Kind string `json:"kind"`
		}
		if err := yaml.Unmarshal(doc, &meta); err != nil {
			return nil, fmt.Errorf("document %d: %w", i+1, err)
		}
		var obj any
		var into cache.Indexer
		switch meta.Kind {
		case "Role":
			obj, into = &rbacv1.Role{}, roles
		case "RoleBinding":
			obj, into = &rbacv1.RoleBinding{}, bindings
		case "ClusterRole":
			obj, into = &rbacv1.ClusterRole{}, clusterRoles
		case "ClusterRoleBinding":
			obj, into = &rbacv1.ClusterRoleBinding{}, clusterBindings
		default:
			continue
		}
		if err := yaml.Unmarshal(doc, obj); err != nil {
			return nil, fmt.Errorf("document %d: %w", i+1, err)
		}
		if err := into.Add(obj); err != nil {
			return nil, err
		}
	}
	return rbac.New(&rbac.RoleGetter{Lister: rbaclisters.NewRoleLister(roles)},
		&rbac.RoleBindingLister{Lister: rbaclisters.NewRoleBindingLister(bindings)},
		&rbac.ClusterRoleGetter{Lister: rbaclisters.NewClusterRoleLister(clusterRoles)},
		&rbac.ClusterRoleBindingLister{Lister: rbaclisters.NewClusterRoleBindingLister(clusterBindings)}), nil
}
