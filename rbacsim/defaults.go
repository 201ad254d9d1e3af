package rbacsim

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"
)

//go:embed defaults/*.yaml
var defaultsFS embed.FS

// DefaultObjects returns the default ClusterRoles, ClusterRoleBindings, Roles and RoleBindings of a
// new cluster of the current Kubernetes release (--with-defaults), system:controller:* included: the
// RBAC policy that kube-apiserver bootstraps, as `make rbac-defaults` reads it from the API server of
// the end-to-end tests (defaults/bootstrap.yaml; a test keeps it equal). Objects read from the inputs
// after them replace them, as an edited default role does in a cluster.
func DefaultObjects() (*Objects, error) {
	files, err := fs.Glob(defaultsFS, "defaults/*.yaml")
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	all := &Objects{Sources: map[any]Source{}}
	for _, f := range files {
		data, err := defaultsFS.ReadFile(f)
		if err != nil {
			return nil, err
		}
		objs, err := Parse("(defaults)/"+f[len("defaults/"):], data)
		if err != nil {
			return nil, fmt.Errorf("embedded defaults: %w", err)
		}
		all.Append(objs)
	}
	return all, nil
}
