package simulate

import (
	"context"
	"fmt"
	"reflect"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apiserver/pkg/admission"
	genericinitializer "k8s.io/apiserver/pkg/admission/initializer"
	"k8s.io/apiserver/pkg/admission/plugin/namespace/lifecycle"
	"k8s.io/apiserver/pkg/admission/plugin/resourcequota"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/cache"
	"k8s.io/component-base/compatibility"
	kubeadmission "k8s.io/kubernetes/pkg/controlplane/apiserver/admission"
	_ "k8s.io/kubernetes/pkg/features" // kube-apiserver's feature gates, at their defaults
	"k8s.io/kubernetes/pkg/kubeapiserver/admission/exclusion"
	quotainstall "k8s.io/kubernetes/pkg/quota/v1/install"
	"k8s.io/kubernetes/plugin/pkg/admission/defaulttolerationseconds"
	"k8s.io/kubernetes/plugin/pkg/admission/limitranger"
	"k8s.io/kubernetes/plugin/pkg/admission/network/defaultingressclass"
	"k8s.io/kubernetes/plugin/pkg/admission/priority"
	"k8s.io/kubernetes/plugin/pkg/admission/runtimeclass"
	"k8s.io/kubernetes/plugin/pkg/admission/security/podsecurity"
	"k8s.io/kubernetes/plugin/pkg/admission/serviceaccount"
)

// KubeVersion is the release whose API server is simulated: the version of k8s.io/kubernetes that
// verdict is built with.
const KubeVersion = "1.37"

// registerPlugins are the built-in admission plugins that simulate runs, in the order of
// kube-apiserver's AllOrderedPlugins (pkg/kubeapiserver/options): those of the default set
// (DefaultOffAdmissionPlugins) that act on the objects of an apply. DefaultStorageClass and
// StorageObjectInUseProtection are not among them: they act on PersistentVolumeClaims only and would
// bring kube's volume utilities (mount-utils, selinux) into verdict. ResourceQuota comes last, as in
// kube-apiserver: after the admission policies and webhooks (cluster.final).
var registerPlugins = []struct {
	name     string
	register func(*admission.Plugins)
}{
	{lifecycle.PluginName, lifecycle.Register},
	{limitranger.PluginName, limitranger.Register},
	{serviceaccount.PluginName, serviceaccount.Register},
	{podsecurity.PluginName, podsecurity.Register},
	{priority.PluginName, priority.Register},
	{defaulttolerationseconds.PluginName, defaulttolerationseconds.Register},
	{runtimeclass.PluginName, runtimeclass.Register},
	{defaultingressclass.PluginName, defaultingressclass.Register},
	{resourcequota.PluginName, resourcequota.Register},
}

// finalPlugins run after the validating policies and webhooks, as kube-apiserver orders them.
var finalPlugins = map[string]bool{resourcequota.PluginName: true}

// plugin is one initialized admission plugin and its name, for the stage that names it.
type plugin struct {
	name string
	admission.Interface
}

// cluster is what the built-in plugins read: a fake clientset that holds the objects of the
// simulated cluster, with informers on it, as the API server's loopback client and informers.
type cluster struct {
	client *fake.Clientset
	// plugins run before the admission policies, final after them.
	plugins, final []plugin
	// informers are the plugins' informers, by the type of their objects; pending the writes they
	// have yet to see.
	informers map[reflect.Type]cache.SharedIndexInformer
	pending   []write
	stop      chan struct{}
}

// newCluster starts the informers of a fake clientset holding objects and initializes the plugins
// as kube-apiserver's plugin initializers do (the generic one, then kube's with its quota
// configuration). revision gives the resource version of each write that the plugins make (the
// ResourceQuota plugin's status updates), as etcd would.
func newCluster(ctx context.Context, authz authorizer.Authorizer, objects []runtime.Object, revision func() string) (*cluster, error) {
	c := &cluster{client: fake.NewClientset(objects...), stop: make(chan struct{})}
	c.client.PrependReactor("update", "resourcequotas", func(action clienttesting.Action) (bool, runtime.Object, error) {
		if m, err := meta.Accessor(action.(clienttesting.UpdateAction).GetObject()); err == nil {
			m.SetResourceVersion(revision())
		}
		return false, nil, nil
	})
	factory := informers.NewSharedInformerFactory(c.client, 0)
	quotaConfiguration, err := quotainstall.NewQuotaConfigurationForAdmission(factory, nil)
	if err != nil {
		return nil, err
	}
	init := admission.PluginInitializers{
		genericinitializer.New(c.client, nil, factory, authz, utilfeature.DefaultFeatureGate,
			compatibility.NewEffectiveVersionFromString(KubeVersion, "", ""), c.stop, nil),
		kubeadmission.NewPluginInitializer(quotaConfiguration, exclusion.Excluded()),
	}
	registry := admission.NewPlugins()
	for _, p := range registerPlugins {
		p.register(registry)
	}
	for _, p := range registerPlugins {
		pl, err := registry.InitPlugin(p.name, nil, init)
		if err != nil {
			return nil, fmt.Errorf("admission plugin %s: %w", p.name, err)
		}
		if finalPlugins[p.name] {
			c.final = append(c.final, plugin{p.name, pl})
		} else {
			c.plugins = append(c.plugins, plugin{p.name, pl})
		}
	}
	factory.Start(c.stop)
	syncCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	c.informers = map[reflect.Type]cache.SharedIndexInformer{}
	for typ, ok := range factory.WaitForCacheSync(syncCtx.Done()) {
		if !ok {
			c.close()
			return nil, fmt.Errorf("the simulated cluster's %v informer did not sync", typ)
		}
		c.informers[typ] = factory.InformerFor(reflect.New(typ.Elem()).Interface().(runtime.Object), nil)
	}
	return c, nil
}

func (c *cluster) close() { close(c.stop) }

// add stores an object of a built-in kind in the simulated cluster, where the plugins find it: in
// their live lookups at once, in their informers by the next sync. Objects of other kinds are not
// kept there.
func (c *cluster) add(obj *unstructured.Unstructured, gvr schema.GroupVersionResource) error {
	typed, ok, err := toTyped(obj)
	if err != nil || !ok {
		return err
	}
	if _, getErr := c.client.Tracker().Get(gvr, obj.GetNamespace(), obj.GetName()); getErr == nil {
		err = c.client.Tracker().Update(gvr, typed, obj.GetNamespace())
	} else {
		err = c.client.Tracker().Add(typed)
	}
	if err != nil {
		return err
	}
	if informer := c.informers[reflect.TypeOf(typed)]; informer != nil {
		key, _ := cache.MetaNamespaceKeyFunc(typed)
		c.pending = append(c.pending, write{informer: informer, key: key, version: obj.GetResourceVersion(), kind: obj.GetKind()})
	}
	return nil
}

// write is an object stored in the simulated cluster that an informer has yet to see.
type write struct {
	informer     cache.SharedIndexInformer
	key, version string
	kind         string
}

// sync waits until the informers hold every object stored since the last sync, at its resource
// version: before a request's admission, so that a plugin sees the objects accepted before it
// whichever way it looks, as the API server's do when the next request of a kubectl apply comes.
func (c *cluster) sync() error {
	defer func() { c.pending = c.pending[:0] }()
	deadline := time.Now().Add(10 * time.Second)
	for _, p := range c.pending {
		for {
			if got, ok, _ := p.informer.GetIndexer().GetByKey(p.key); ok {
				if m, err := meta.Accessor(got); err == nil && m.GetResourceVersion() == p.version {
					break
				}
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("the simulated cluster's informer did not see %s %s", p.kind, p.key)
			}
			time.Sleep(20 * time.Microsecond)
		}
	}
	return nil
}

// clientScheme holds client-go's built-in types, those of its fake clientset and of kubectl's
// patches: client-go's own scheme (k8s.io/client-go/kubernetes/scheme) is process-wide, and a
// program may add other types to it.
var clientScheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(fake.AddToScheme(s))
	return s
}()

// toTyped converts an object of a kind client-go knows into its client-go type; ok is false for
// other kinds.
func toTyped(obj *unstructured.Unstructured) (runtime.Object, bool, error) {
	gvk := obj.GroupVersionKind()
	if !clientScheme.Recognizes(gvk) {
		return nil, false, nil
	}
	typed, err := clientScheme.New(gvk)
	if err != nil {
		return nil, false, err
	}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, typed); err != nil {
		return nil, false, fmt.Errorf("%s %q: %w", gvk.Kind, obj.GetName(), err)
	}
	return typed, true, nil
}
