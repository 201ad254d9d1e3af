package source

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/pager"

	"github.com/verdict-dev/verdict/policies/bundle"
)

// ReadCluster reads once what a Cluster watches: the policies and bindings, ConstraintTemplates
// and constraints the API server serves, its Namespaces, the params kinds that they and the
// policies of files name, and the kinds of opts.Sync; each kind listed page by page. It is the
// one-shot mode of verdict audit; compile its answer with Compile. An API server that cannot be
// reached, or a kind it refuses to list, is an error that names them.
func ReadCluster(ctx context.Context, opts ClusterOptions, files bundle.Options) (*Extra, error) {
	disc, err := discovery.NewDiscoveryClientForConfig(opts.Config)
	if err != nil {
		return nil, fmt.Errorf("reaching the API server at %s: %w", opts.Config.Host, err)
	}
	client, err := dynamic.NewForConfig(opts.Config)
	if err != nil {
		return nil, fmt.Errorf("reaching the API server at %s: %w", opts.Config.Host, err)
	}
	return readCluster(ctx, disc, client, opts.Config.Host, opts.Sync, files)
}

// groupsAndResources is the part of discovery that ReadCluster asks.
type groupsAndResources interface {
	ServerGroupsAndResources() ([]*metav1.APIGroup, []*metav1.APIResourceList, error)
}

func readCluster(ctx context.Context, disc groupsAndResources, client dynamic.Interface, host string, sync []schema.GroupVersionKind, files bundle.Options) (*Extra, error) {
	groups, lists, err := disc.ServerGroupsAndResources()
	if err != nil && len(lists) == 0 {
		return nil, fmt.Errorf("asking the API server at %s which kinds it serves: %w", host, err)
	}
	kinds := discoverKinds(groups, lists)
	r := &reader{client: client, kinds: kinds, extra: &Extra{}}
	// The policies first: the params kinds they name are read next.
	for _, gvk := range sortedKinds(wantedKinds(kinds, nil, nil), rolePolicy) {
		if err := r.list(ctx, gvk, rolePolicy); err != nil {
			return nil, err
		}
	}
	want := wantedKinds(kinds, paramKinds(append(filePolicies(files), r.extra.Policies...)), sync)
	for _, gvk := range sortedKinds(want, roleObject|roleInventory) {
		if err := r.list(ctx, gvk, want[gvk]&^rolePolicy); err != nil {
			return nil, err
		}
	}
	return r.extra, nil
}

// ListPageSize is how many objects one list request of ReadCluster asks for.
const ListPageSize = 500

type reader struct {
	client dynamic.Interface
	kinds  discovered
	extra  *Extra
}

// list adds every object of kind gvk to the extra, where roles say, in name order.
func (r *reader) list(ctx context.Context, gvk schema.GroupVersionKind, roles role) error {
	gvr, ok := r.kinds.resources[gvk]
	if !ok {
		return fmt.Errorf("the API server names no resource of %s", gvk)
	}
	p := pager.New(pager.SimplePageFunc(func(o metav1.ListOptions) (runtime.Object, error) {
		return r.client.Resource(gvr).List(ctx, o)
	}))
	p.PageSize = ListPageSize
	var items []*unstructured.Unstructured
	err := p.EachListItem(ctx, metav1.ListOptions{}, func(obj runtime.Object) error {
		u, ok := obj.(*unstructured.Unstructured)
		if !ok {
			return fmt.Errorf("listing %s: an item of type %T", gvk, obj)
		}
		items = append(items, u)
		return nil
	})
	if err != nil {
		return fmt.Errorf("listing %s (%s): %w", gvr.Resource, gvk.GroupVersion(), err)
	}
	slices.SortFunc(items, func(a, b *unstructured.Unstructured) int {
		return cmp.Or(cmp.Compare(a.GetNamespace(), b.GetNamespace()), cmp.Compare(a.GetName(), b.GetName()))
	})
	for _, obj := range items {
		r.extra.add(obj, gvk, roles)
	}
	return nil
}

// sortedKinds are the kinds of want that have one of roles, in a stable order.
func sortedKinds(want map[schema.GroupVersionKind]role, roles role) []schema.GroupVersionKind {
	var out []schema.GroupVersionKind
	for gvk, r := range want {
		if r&roles != 0 {
			out = append(out, gvk)
		}
	}
	return slices.SortedFunc(slices.Values(out), func(a, b schema.GroupVersionKind) int {
		return cmp.Compare(a.String(), b.String())
	})
}
