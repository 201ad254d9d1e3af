package source

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	crcache "sigs.k8s.io/controller-runtime/pkg/cache"
)

// ClusterOptions say how the policy set reads from a cluster.
type ClusterOptions struct {
	// Config reaches the API server.
	Config *rest.Config
	// Sync are the kinds that Gatekeeper templates see in data.inventory, as Gatekeeper's Config
	// syncOnly names them.
	Sync []schema.GroupVersionKind
	// Rediscover is how often the API server is asked which policy kinds it serves, so that the
	// constraint kinds of templates created later are watched; DefaultRediscover when zero.
	Rediscover time.Duration
}

// DefaultRediscover is how often a Cluster asks the API server which kinds it serves.
const DefaultRediscover = 30 * time.Second

// Cluster keeps a policy set in step with a cluster: it watches, through a controller-runtime
// cache, the admission policies and bindings, ConstraintTemplates and constraints the API server
// serves, the Namespaces, the params kinds the policies name and the kinds of opts.Sync, and on
// every change loads the set again with them (see PolicySet.LoadExtra).
//
// A cluster policy that does not compile is left out of the set and logged, naming it; the rest of
// the set is put in force. The API server validated what it stores, so this is rare (a Rego
// builtin that verdict refuses, for one); keeping the old set instead would let one broken object
// freeze every later change.
type Cluster struct {
	opts     ClusterOptions
	policies *PolicySet
	log      logr.Logger

	// Run's own: the informers by kind, the kinds served, and the params kinds of the set.
	cache    crcache.Cache
	watched  map[schema.GroupVersionKind]*watched
	kinds    discovered
	discover discovery.DiscoveryInterface
	params   map[schema.GroupVersionKind]bool
	missing  map[schema.GroupVersionKind]bool

	changed chan struct{}
	ready   atomic.Bool
	status  atomic.Pointer[string]
	// discoveries counts the answers discovery gave (none while the API server cannot be reached),
	// watchErr is the last error of a watch.
	discoveries atomic.Int64
	attempts    atomic.Int64
	watchErr    atomic.Pointer[string]
}

// role says what a watched kind is for; a kind may have several.
type role uint8

const (
	rolePolicy    role = 1 << iota // policies and bindings
	roleObject                     // Namespaces and params
	roleInventory                  // data.inventory
)

type watched struct {
	roles    role
	informer crcache.Informer
}

// NewCluster returns a source that loads policies into set. Run it.
func NewCluster(opts ClusterOptions, set *PolicySet, log logr.Logger) *Cluster {
	if opts.Rediscover <= 0 {
		opts.Rediscover = DefaultRediscover
	}
	c := &Cluster{opts: opts, policies: set, log: log, changed: make(chan struct{}, 1),
		watched: map[schema.GroupVersionKind]*watched{}, params: map[schema.GroupVersionKind]bool{},
		missing: map[schema.GroupVersionKind]bool{}}
	c.setStatus("the cluster's policies are not read yet")
	return c
}

// Ready fails until the cluster's policies were read once: discovery has answered, the cache has
// synced and the policy set has been loaded with what it holds. Until then it says what it waits
// for (an API server that cannot be reached, with the error). Once ready, it stays so: the set in
// force keeps serving while the watches reconnect, and a constraint kind created later does not
// take the webhook out of service.
func (c *Cluster) Ready() error {
	if c.ready.Load() {
		return nil
	}
	return errors.New(*c.status.Load())
}

func (c *Cluster) setStatus(s string) { c.status.Store(&s) }

// Attempts counts the times discovery was asked which kinds the cluster serves, answered or not.
func (c *Cluster) Attempts() int64 { return c.attempts.Load() }

// Run watches the cluster and loads the policy set on every change, until ctx is done.
func (c *Cluster) Run(ctx context.Context) error {
	cacheDone, err := c.start(ctx)
	if err != nil {
		return err
	}

	// Until discovery first answers, it is asked again soon, backing off to the rediscovery period:
	// the webhook is not ready meanwhile, and should be as soon as the API server can be reached.
	var retry <-chan time.Time
	backoff := firstRetry
	discover := func() bool {
		changed := c.rediscover(ctx)
		if c.discoveries.Load() == 0 {
			retry = time.After(backoff)
			backoff = min(2*backoff, c.opts.Rediscover)
		} else {
			retry = nil
		}
		return changed
	}
	discover()
	c.poke()
	ticker := time.NewTicker(c.opts.Rediscover)
	defer ticker.Stop()
	// A change schedules one rebuild, ReloadDelay later, that gathers the changes until then; later
	// changes do not postpone it, so that a busy kind (a --sync kind that changes all the time)
	// cannot hold the set back, and rebuilds are at least minRebuildGap apart.
	fire := make(chan struct{}, 1)
	var timer *time.Timer
	var lastBuild time.Time
	schedule := func() {
		if timer != nil {
			return // one is pending
		}
		d := max(ReloadDelay, time.Until(lastBuild.Add(minRebuildGap)))
		timer = time.AfterFunc(d, func() { fire <- struct{}{} })
	}
	for {
		select {
		case <-ctx.Done():
			if timer != nil {
				timer.Stop()
			}
			return <-cacheDone
		case err := <-cacheDone:
			return fmt.Errorf("cluster cache: %w", err)
		case <-retry:
			discover()
			c.poke()
		case <-ticker.C:
			if discover() {
				schedule()
			}
		case <-c.changed:
			schedule()
		case <-fire:
			timer = nil
			if c.discoveries.Load() == 0 {
				continue // the status says why; discover pokes again once it answers
			}
			if !c.synced() {
				schedule()
				continue
			}
			lastBuild = time.Now()
			c.rebuild(ctx)
		}
	}
}

// start makes the discovery client and the informer cache, and starts the cache; the channel gets
// the cache's end.
func (c *Cluster) start(ctx context.Context) (<-chan error, error) {
	disc, err := discovery.NewDiscoveryClientForConfig(c.opts.Config)
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	c.discover = disc
	c.cache, err = crcache.New(c.opts.Config, crcache.Options{
		DefaultWatchErrorHandler: func(_ context.Context, r *toolscache.Reflector, err error) {
			c.log.Error(err, "watching the cluster", "reflector", r.TypeDescription())
			msg := err.Error()
			c.watchErr.Store(&msg)
		},
	})
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- c.cache.Start(ctx) }()
	return done, nil
}

// synced says whether every informer has synced; if not, the status names those still waiting and
// the last watch error.
func (c *Cluster) synced() bool {
	pending := c.unsynced()
	if len(pending) == 0 {
		return true
	}
	status := fmt.Sprintf("waiting for the cache to sync %v", pending)
	if msg := c.watchErr.Load(); msg != nil {
		status += ": " + *msg
	}
	c.setStatus(status)
	return false
}

// minRebuildGap is the least time between two loads of the set from the cluster.
const minRebuildGap = time.Second

// firstRetry is the first wait before discovery is asked again after it failed.
const firstRetry = 500 * time.Millisecond

// poke asks for a rebuild.
func (c *Cluster) poke() {
	select {
	case c.changed <- struct{}{}:
	default:
	}
}

// rediscover asks the API server which kinds it serves and watches those it should, and stops
// watching those it no longer serves. It reports whether the watched kinds changed.
func (c *Cluster) rediscover(ctx context.Context) bool {
	c.attempts.Add(1)
	groups, lists, err := c.discover.ServerGroupsAndResources()
	if err != nil && len(lists) == 0 {
		c.log.Error(err, "discovering the cluster's kinds")
		if c.discoveries.Load() == 0 {
			c.setStatus("the API server cannot be reached: " + err.Error())
		}
		return false
	}
	if c.discoveries.Add(1) == 1 {
		c.setStatus("the cluster's policies are not read yet")
	}
	if err != nil {
		c.log.V(1).Info("discovery was partial", "error", err.Error())
	}
	c.kinds = discoverKinds(groups, lists)
	return c.reconcile(ctx)
}

// reconcile starts and stops informers so that the watched kinds are those wanted.
func (c *Cluster) reconcile(ctx context.Context) bool {
	want := wantedKinds(c.kinds, c.params, c.opts.Sync)
	for gvk := range c.params {
		c.noteMissing(gvk, "a params kind of the policies is not served by the cluster")
	}
	for _, gvk := range c.opts.Sync {
		c.noteMissing(gvk, "a --sync kind is not served by the cluster")
	}
	changed := false
	for gvk, w := range c.watched {
		if _, ok := want[gvk]; ok {
			w.roles = want[gvk]
			continue
		}
		if err := c.cache.RemoveInformer(ctx, typed(gvk)); err != nil {
			c.log.Error(err, "stopping a watch", "kind", gvk.String())
		}
		delete(c.watched, gvk)
		changed = true
	}
	for gvk, roles := range want {
		if _, ok := c.watched[gvk]; ok {
			continue
		}
		inf, err := c.cache.GetInformer(ctx, typed(gvk), crcache.BlockUntilSynced(false))
		if err != nil {
			c.log.Error(err, "watching a kind", "kind", gvk.String())
			continue
		}
		if _, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
			AddFunc:    func(any) { c.poke() },
			UpdateFunc: func(any, any) { c.poke() },
			DeleteFunc: func(any) { c.poke() },
		}); err != nil {
			c.log.Error(err, "watching a kind", "kind", gvk.String())
			continue
		}
		c.log.V(1).Info("watching", "kind", gvk.String())
		c.watched[gvk] = &watched{roles: roles, informer: inf}
		changed = true
	}
	if changed {
		c.poke() // a kind with no objects sends no events
	}
	return changed
}

// noteMissing logs, once until it is served, that a kind is not served.
func (c *Cluster) noteMissing(gvk schema.GroupVersionKind, msg string) {
	if c.kinds.served[gvk] {
		delete(c.missing, gvk)
		return
	}
	if !c.missing[gvk] {
		c.missing[gvk] = true
		c.log.Info(msg, "kind", gvk.String())
	}
}

func (c *Cluster) unsynced() []string {
	var out []string
	for gvk, w := range c.watched {
		if !w.informer.HasSynced() {
			out = append(out, gvk.String())
		}
	}
	slices.Sort(out)
	return out
}

// rebuild loads the policy set with what the cache holds.
func (c *Cluster) rebuild(ctx context.Context) {
	extra, err := c.extra(ctx)
	if err != nil {
		c.setStatus("reading the cache: " + err.Error())
		c.log.Error(err, "reading the cluster's policies")
		return
	}
	if err := c.policies.LoadExtra(ctx, extra); err != nil {
		c.setStatus("loading the policy set with the cluster's policies: " + err.Error())
		return // PolicySet logged it and keeps the set in force
	}
	// The params kinds may have changed with the policies: watch them before calling the set ready.
	// The set just loaded knows them; the policy files are not read again.
	params := c.policies.Current().ParamKinds()
	if !maps.Equal(params, c.params) {
		c.params = params
		if c.reconcile(ctx) {
			c.setStatus("watching the policies' params kinds")
			return
		}
	}
	if !c.ready.Load() {
		c.log.Info("read the cluster's policies", "policies", len(extra.Policies), "objects", len(extra.Objects), "inventory", len(extra.Inventory))
	}
	c.ready.Store(true)
}

// extra lists what the cache holds, in a stable order.
func (c *Cluster) extra(ctx context.Context) (*Extra, error) {
	extra := &Extra{}
	kinds := slices.SortedFunc(maps.Keys(c.watched), func(a, b schema.GroupVersionKind) int {
		return cmp.Compare(a.String(), b.String())
	})
	for _, gvk := range kinds {
		w := c.watched[gvk]
		list := &unstructured.UnstructuredList{}
		list.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
		if err := c.cache.List(ctx, list); err != nil {
			return nil, fmt.Errorf("listing %s: %w", gvk.Kind, err)
		}
		items := list.Items
		slices.SortFunc(items, func(a, b unstructured.Unstructured) int {
			return cmp.Or(cmp.Compare(a.GetNamespace(), b.GetNamespace()), cmp.Compare(a.GetName(), b.GetName()))
		})
		for i := range items {
			extra.add(&items[i], gvk, w.roles)
		}
	}
	return extra, nil
}

// typed returns an empty object of kind gvk, to name the kind to the cache.
func typed(gvk schema.GroupVersionKind) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	return u
}
