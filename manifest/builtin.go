package manifest

import (
	_ "embed"
	"encoding/json"
	"sort"
	"sync"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// APIResource is one resource that a default kube-apiserver of the current Kubernetes release serves
// in one API version, as its discovery reports it.
type APIResource struct {
	Group    string `json:"group"`
	Version  string `json:"version"`
	Kind     string `json:"kind"`
	Resource string `json:"resource"` // plural, as RBAC rules and URLs name it
	Singular string `json:"singular"`
	// ShortNames are the short names that kubectl accepts for the resource, in discovery's order.
	ShortNames []string `json:"shortNames,omitempty"`
	Namespaced bool     `json:"namespaced"`
	// Verbs are the verbs the resource supports, in discovery's order.
	Verbs []string `json:"verbs"`
	// Subresources are the names of the resource's subresources (exec for pods/exec), sorted.
	Subresources []string `json:"subresources,omitempty"`
	// Preferred is set when Version is the preferred version of Group.
	Preferred bool `json:"preferred"`
}

// BuiltinResourcesFile is the layout of builtin_resources.json, which `make resources` writes from the
// discovery of the end-to-end tests' kube-apiserver.
type BuiltinResourcesFile struct {
	// Comment says where the data comes from.
	Comment string `json:"comment"`
	// ServerVersion is the gitVersion of the kube-apiserver whose discovery this is.
	ServerVersion string `json:"serverVersion"`
	// Resources are the served resources in discovery order: groups as discovery lists them (the core
	// group first), each group's versions as it lists them, and each version's resources as it lists
	// them. Subresources are folded into their parent's entry.
	Resources []APIResource `json:"resources"`
}

//go:embed builtin_resources.json
var builtinResourcesJSON []byte

var (
	builtinOnce      sync.Once
	builtinResources []APIResource
	builtinByGVK     map[schema.GroupVersionKind]int
	builtinVersions  map[schema.GroupKind][]string
)

func loadBuiltin() {
	var f BuiltinResourcesFile
	if err := json.Unmarshal(builtinResourcesJSON, &f); err != nil {
		panic("manifest: the embedded builtin_resources.json does not decode: " + err.Error())
	}
	builtinResources = f.Resources
	builtinByGVK = make(map[schema.GroupVersionKind]int, len(f.Resources))
	builtinVersions = map[schema.GroupKind][]string{}
	for i, r := range f.Resources {
		gvk := schema.GroupVersionKind{Group: r.Group, Version: r.Version, Kind: r.Kind}
		if _, dup := builtinByGVK[gvk]; dup {
			continue // the first resource of a kind in a version is the one a manifest of that kind creates
		}
		builtinByGVK[gvk] = i
		gk := gvk.GroupKind()
		builtinVersions[gk] = append(builtinVersions[gk], r.Version)
	}
	for gk, versions := range builtinVersions {
		sort.SliceStable(versions, func(i, j int) bool {
			return builtinPreferred(gk, versions[i]) && !builtinPreferred(gk, versions[j])
		})
	}
}

// builtinPreferred reports whether version is the preferred version of gk's group; only for loadBuiltin.
func builtinPreferred(gk schema.GroupKind, version string) bool {
	i, ok := builtinByGVK[gk.WithVersion(version)]
	return ok && builtinResources[i].Preferred
}

// BuiltinAPIResources returns the resources that a default kube-apiserver of the current Kubernetes
// release serves, one entry per group, version and resource, in discovery order (see
// BuiltinResourcesFile.Resources). The data is generated from the discovery of the end-to-end tests'
// control plane by `make resources`.
//
// The slice and its entries are shared by every caller: they are read-only.
func BuiltinAPIResources() []APIResource {
	builtinOnce.Do(loadBuiltin)
	return builtinResources
}

// ServedByDefault returns the built-in resource of exactly this group, version and kind, and whether
// a default kube-apiserver of the current release serves it. The returned entry shares its slices with
// BuiltinAPIResources: they are read-only.
func ServedByDefault(gvk schema.GroupVersionKind) (APIResource, bool) {
	builtinOnce.Do(loadBuiltin)
	i, ok := builtinByGVK[gvk]
	if !ok {
		return APIResource{}, false
	}
	return builtinResources[i], true
}

// ServedVersions returns the versions in which a default kube-apiserver of the current release serves
// the kind gk, the group's preferred version first and the others in discovery order; nil when no
// version serves it. The result is a new slice.
func ServedVersions(gk schema.GroupKind) []string {
	builtinOnce.Do(loadBuiltin)
	versions := builtinVersions[gk]
	if versions == nil {
		return nil
	}
	return append([]string(nil), versions...)
}
