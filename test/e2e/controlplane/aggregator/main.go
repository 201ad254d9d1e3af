// Command clusterrole-aggregation runs kube-controller-manager's ClusterRole aggregation controller,
// and nothing else, against the API server of a kubeconfig, for verdict's end-to-end tests: envtest
// runs no controller-manager, so without it an aggregated ClusterRole keeps the rules it was created
// with. It is the controller of the k8s.io/kubernetes release pinned in go.mod, not a copy.
//
// It is a tool, not part of verdict: this module has its own go.mod so that the main module never
// depends on k8s.io/kubernetes. `make rbac-aggregator` builds it into bin/k8s.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/kubernetes/pkg/controller/clusterroleaggregation"
)

func main() {
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig of the API server")
	workers := flag.Int("workers", 2, "concurrent syncs")
	flag.Parse()
	if err := run(*kubeconfig, *workers); err != nil {
		fmt.Fprintln(os.Stderr, "clusterrole-aggregation:", err)
		os.Exit(1)
	}
}

func run(kubeconfig string, workers int) error {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return err
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	factory := informers.NewSharedInformerFactory(cs, 0)
	c := clusterroleaggregation.NewClusterRoleAggregation(factory.Rbac().V1().ClusterRoles(), cs.RbacV1())
	factory.Start(ctx.Done())
	c.Run(ctx, workers)
	factory.Shutdown()
	return nil
}
