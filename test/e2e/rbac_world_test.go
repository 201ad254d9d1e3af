package e2e

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/verdict-dev/verdict/rbacsim"
	"github.com/verdict-dev/verdict/rbacsim/cluster"
	"github.com/verdict-dev/verdict/test/e2e/controlplane"
)

// rbacWorld is the set-up of the RBAC parity tests: a control plane with the ClusterRole
// aggregation controller running, its bootstrap policy read back before anything is added, and the
// random world of newParityGen(seed) created in the generator's namespaces.
type rbacWorld struct {
	env       *controlplane.Env
	started   time.Time            // when the API server had started, before the world was created
	cs        kubernetes.Interface // without client-side rate limits (fastClient)
	bootstrap *rbacsim.Objects     // the bootstrap policy, as the cluster held it at the start
	gen       *parityGen
	objs      *parityObjects
}

func startRBACWorld(t *testing.T, seed uint64, opts ...controlplane.Option) *rbacWorld {
	t.Helper()
	w := &rbacWorld{env: controlplane.Start(t, opts...)}
	w.started = time.Now()
	w.cs = fastClient(t, w.env.Config)
	var err error
	if w.bootstrap, err = cluster.Read(t.Context(), w.env.Config); err != nil {
		t.Fatal(err)
	}
	w.env.StartAggregation(t)
	w.gen = newParityGen(seed)
	w.objs = w.gen.objects()
	createNamespaces(t, w.cs, w.gen.Namespaces)
	createRBAC(t, w.cs, w.objs)
	return w
}

// synced waits until the API server decides with what model holds: its aggregated ClusterRoles
// equal model's, and its authorizer has seen the last object created.
func (w *rbacWorld) synced(t *testing.T, model *rbacsim.Model) {
	t.Helper()
	waitAggregated(t, w.cs, model)
	waitAuthorizerSynced(t, w.cs)
}

func createNamespaces(t *testing.T, cs kubernetes.Interface, names []string) {
	t.Helper()
	for _, ns := range names {
		if _, err := cs.CoreV1().Namespaces().Create(t.Context(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
}
