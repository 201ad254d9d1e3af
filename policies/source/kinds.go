package source

import (
	"errors"
	"io/fs"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/verdict-dev/verdict/manifest"
	"github.com/verdict-dev/verdict/policies/bundle"
	"github.com/verdict-dev/verdict/policies/gatekeeper"
	"github.com/verdict-dev/verdict/policies/vap"
)

// namespaceKind is what namespaceSelectors look at.
var namespaceKind = schema.GroupVersionKind{Version: "v1", Kind: "Namespace"}

// discovered is what the API server serves, as discovery tells it.
type discovered struct {
	// served holds every kind in every version served.
	served map[schema.GroupVersionKind]bool
	// resources name the resource of each kind served.
	resources map[schema.GroupVersionKind]schema.GroupVersionResource
	// policies are the policy kinds to watch, each in the first version of its group (the preferred
	// one first) that serves it and that verdict reads.
	policies []schema.GroupVersionKind
}

// discoverKinds reads discovery's answer. groups give the order of each group's versions.
func discoverKinds(groups []*metav1.APIGroup, lists []*metav1.APIResourceList) discovered {
	d := discovered{served: map[schema.GroupVersionKind]bool{}, resources: map[schema.GroupVersionKind]schema.GroupVersionResource{}}
	for _, l := range lists {
		gv, err := schema.ParseGroupVersion(l.GroupVersion)
		if err != nil {
			continue
		}
		for _, r := range l.APIResources {
			if strings.Contains(r.Name, "/") {
				continue // a subresource
			}
			d.served[gv.WithKind(r.Kind)] = true
			d.resources[gv.WithKind(r.Kind)] = gv.WithResource(r.Name)
		}
	}
	picked := map[schema.GroupKind]bool{}
	for _, g := range groups {
		if g.Name != vap.Group && g.Name != gatekeeper.TemplateGroup && g.Name != gatekeeper.ConstraintGroup {
			continue
		}
		for _, v := range g.Versions {
			for _, l := range lists {
				if l.GroupVersion != v.GroupVersion {
					continue
				}
				for _, r := range l.APIResources {
					gvk := schema.GroupVersionKind{Group: g.Name, Version: v.Version, Kind: r.Kind}
					if strings.Contains(r.Name, "/") || picked[gvk.GroupKind()] || !isPolicyKind(gvk) {
						continue
					}
					picked[gvk.GroupKind()] = true
					d.policies = append(d.policies, gvk)
				}
			}
		}
	}
	return d
}

func isPolicyKind(gvk schema.GroupVersionKind) bool {
	obj := typed(gvk)
	return vap.Handles(obj) || gatekeeper.Handles(obj)
}

// wantedKinds are the kinds to watch and what for: the policy kinds, the Namespaces, the params
// kinds the policies name and the kinds to sync into data.inventory, those the cluster serves.
func wantedKinds(d discovered, params map[schema.GroupVersionKind]bool, sync []schema.GroupVersionKind) map[schema.GroupVersionKind]role {
	want := map[schema.GroupVersionKind]role{}
	for _, gvk := range d.policies {
		want[gvk] |= rolePolicy
	}
	if d.served[namespaceKind] {
		want[namespaceKind] |= roleObject
	}
	for gvk := range params {
		if d.served[gvk] {
			want[gvk] |= roleObject
		}
	}
	for _, gvk := range sync {
		if d.served[gvk] {
			want[gvk] |= roleInventory
		}
	}
	return want
}

// paramKinds are the kinds that the admission policies among objs take params of.
func paramKinds(objs []*unstructured.Unstructured) map[schema.GroupVersionKind]bool {
	out := map[schema.GroupVersionKind]bool{}
	for _, obj := range objs {
		if !vap.Handles(obj) || (obj.GetKind() != vap.KindValidatingPolicy && obj.GetKind() != vap.KindMutatingPolicy) {
			continue
		}
		apiVersion, _, _ := unstructured.NestedString(obj.Object, "spec", "paramKind", "apiVersion")
		kind, _, _ := unstructured.NestedString(obj.Object, "spec", "paramKind", "kind")
		gv, err := schema.ParseGroupVersion(apiVersion)
		if err != nil || kind == "" {
			continue
		}
		out[gv.WithKind(kind)] = true
	}
	return out
}

// filePolicies reads the manifests of the policy files (or of the library), for their paramKinds.
// Unreadable files are skipped: loading the set reports them.
func filePolicies(opts bundle.Options) []*unstructured.Unstructured {
	var docs []manifest.Document
	if len(opts.Paths) == 0 {
		if opts.Library == nil {
			return nil
		}
		_ = fs.WalkDir(opts.Library, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !manifest.IsManifestFile(p) {
				return nil
			}
			if data, err := fs.ReadFile(opts.Library, p); err == nil {
				docs = append(docs, manifest.Decode(p, data).Documents...)
			}
			return nil
		})
	} else {
		for _, p := range opts.Paths {
			if p == manifest.Stdin {
				continue
			}
			files, _, _ := manifest.Files([]string{resolveRoot(p)}, manifest.IsManifestFile)
			for _, f := range files {
				docs = append(docs, manifest.ReadFile(f, nil).Documents...)
			}
		}
	}
	out := make([]*unstructured.Unstructured, 0, len(docs))
	for _, d := range docs {
		out = append(out, d.Object)
	}
	return out
}

// ParseKind reads GROUP/VERSION/KIND, or VERSION/KIND for the core group (v1/Namespace).
func ParseKind(s string) (schema.GroupVersionKind, error) {
	bad := errors.New("want GROUP/VERSION/KIND, or v1/KIND for the core group")
	i := strings.LastIndex(s, "/")
	if i <= 0 || i == len(s)-1 {
		return schema.GroupVersionKind{}, bad
	}
	gv, err := schema.ParseGroupVersion(s[:i])
	if err != nil || gv.Version == "" {
		return schema.GroupVersionKind{}, bad
	}
	return gv.WithKind(s[i+1:]), nil
}
