package rbacsim

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/verdict-dev/verdict/manifest"
)

// ResourceInfo describes one resource type that a TYPE argument can name.
type ResourceInfo struct {
	Group        string
	Version      string
	Resource     string // plural, as RBAC rules name it
	Singular     string
	Kind         string
	ShortNames   []string
	Namespaced   bool
	Subresources []string
}

// Resolution is what a TYPE argument means: the group and resource of an RBAC request.
type Resolution struct {
	Group    string
	Resource string
	// Info is the known type, nil when the TYPE was neither built in nor defined by a CRD in the inputs.
	Info *ResourceInfo
	// Warning is set when the TYPE is unknown, as kubectl warns.
	Warning string
}

// Resolver resolves TYPE arguments the way kubectl's REST mapper and shortcut expander do, from the
// built-in resources of the current Kubernetes release and CustomResourceDefinitions.
type Resolver struct {
	byName map[string][]*ResourceInfo // plural, singular and short names, lowercase; in order of preference
}

// NewResolver returns a resolver over the built-in resources followed by extra (CRD) resources.
func NewResolver(extra []ResourceInfo) *Resolver {
	r := &Resolver{byName: map[string][]*ResourceInfo{}}
	add := func(info *ResourceInfo) {
		names := append([]string{info.Resource, info.Singular, strings.ToLower(info.Kind)}, info.ShortNames...)
		seen := map[string]bool{}
		for _, n := range names {
			n = strings.ToLower(n)
			if n == "" || seen[n] {
				continue
			}
			seen[n] = true
			r.byName[n] = append(r.byName[n], info)
		}
	}
	builtin := builtinResources()
	for i := range builtin {
		add(&builtin[i])
	}
	for i := range extra {
		info := extra[i]
		add(&info)
	}
	return r
}

// builtinResources are the resources that a default kube-apiserver of the current release serves
// (manifest.BuiltinAPIResources, from its discovery), one per group and resource, in kubectl's order
// of preference when a name is ambiguous: groups in discovery order (the core group first), and in
// each group the resources of its preferred version, then those that only its other versions serve,
// in discovery order, as k8s.io/client-go/restmapper's NewDiscoveryRESTMapper ranks them. A resource
// served in several versions is described by its most preferred one. Shared: read-only.
var builtinResources = sync.OnceValue(func() []ResourceInfo {
	all := manifest.BuiltinAPIResources()
	type groupResource struct{ group, resource string }
	seen := map[groupResource]bool{}
	var out []ResourceInfo
	add := func(r manifest.APIResource) {
		gr := groupResource{r.Group, r.Resource}
		if seen[gr] {
			return
		}
		seen[gr] = true
		out = append(out, ResourceInfo{
			Group: r.Group, Version: r.Version, Resource: r.Resource, Singular: r.Singular, Kind: r.Kind,
			ShortNames: slices.Clone(r.ShortNames), Namespaced: r.Namespaced, Subresources: slices.Clone(r.Subresources),
		})
	}
	// Discovery lists a group's versions together, so a group ends where the next one starts.
	for start := 0; start < len(all); {
		end := start
		for end < len(all) && all[end].Group == all[start].Group {
			end++
		}
		for _, r := range all[start:end] {
			if r.Preferred {
				add(r)
			}
		}
		for _, r := range all[start:end] {
			if !r.Preferred {
				add(r)
			}
		}
		start = end
	}
	return out
})

// nonStandardResources are served resources that discovery does not list; kubectl resolves them
// silently to the core group (impersonation of users and groups).
var nonStandardResources = map[string]bool{"users": true, "groups": true}

// KnownResourceVerbs and KnownNonResourceVerbs are the verbs kubectl auth can-i knows; others draw a warning.
var (
	KnownResourceVerbs = map[string]bool{
		"get": true, "list": true, "watch": true, "create": true, "update": true, "patch": true, "delete": true,
		"deletecollection": true, "use": true, "bind": true, "impersonate": true, "*": true, "approve": true,
		"sign": true, "escalate": true, "attest": true,
	}
	KnownNonResourceVerbs = map[string]bool{
		"get": true, "put": true, "post": true, "head": true, "options": true, "delete": true, "patch": true, "*": true,
	}
)

var versionRE = regexp.MustCompile(`^v[0-9]+((alpha|beta)[0-9]+)?$`)

// Resolve maps a TYPE argument (plural, singular, short name, resource.group or resource.version.group,
// case-insensitive) to a group and resource. "*" is every resource of the core group, as kubectl sends it.
// An unknown TYPE is split at its first dot into resource and group, with a warning.
func (r *Resolver) Resolve(arg string) Resolution {
	if arg == "*" {
		return Resolution{Resource: "*"}
	}
	lower := strings.ToLower(arg)
	if strings.Count(lower, ".") >= 2 {
		parts := strings.SplitN(lower, ".", 3)
		if versionRE.MatchString(parts[1]) {
			if info := r.find(parts[0], parts[2], true); info != nil {
				return Resolution{Group: info.Group, Resource: info.Resource, Info: info}
			}
		}
	}
	resource, group, hasGroup := strings.Cut(lower, ".")
	if info := r.find(resource, group, hasGroup); info != nil {
		return Resolution{Group: info.Group, Resource: info.Resource, Info: info}
	}
	if resource == "*" || (!hasGroup && nonStandardResources[resource]) {
		return Resolution{Group: group, Resource: resource}
	}
	res := Resolution{Group: group, Resource: resource}
	if hasGroup {
		res.Warning = fmt.Sprintf("the server doesn't have a resource type '%s' in group '%s'; asking for resource %q in API group %q", resource, group, resource, group)
	} else {
		res.Warning = fmt.Sprintf("the server doesn't have a resource type '%s'", resource)
	}
	return res
}

func (r *Resolver) find(name, group string, hasGroup bool) *ResourceInfo {
	for _, info := range r.byName[name] {
		if !hasGroup || info.Group == group {
			return info
		}
	}
	return nil
}

// Lookup returns the known resource with this exact group and plural name, or nil.
func (r *Resolver) Lookup(group, resource string) *ResourceInfo {
	for _, info := range r.byName[resource] {
		if info.Group == group && info.Resource == resource {
			return info
		}
	}
	return nil
}
