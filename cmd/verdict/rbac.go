package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/verdict-dev/verdict/internal/gctune"
	"github.com/verdict-dev/verdict/rbacsim"
	"github.com/verdict-dev/verdict/rbacsim/cluster"
)

func newRBACCmd(streams IOStreams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rbac",
		Short: "Answer RBAC questions offline from Role, ClusterRole and binding manifests",
		Long: "Simulates the kube-apiserver RBAC authorizer over Role, ClusterRole, RoleBinding and\n" +
			"ClusterRoleBinding manifests (files, folders, - for stdin, Lists and kubectl get -o yaml dumps).",
		Args:             cobra.NoArgs,
		RunE:             func(c *cobra.Command, _ []string) error { return c.Help() },
		PersistentPreRun: func(*cobra.Command, []string) { quietAPIServerLogs() },
	}
	cmd.AddCommand(newRBACCanICmd(streams), newRBACWhoCanCmd(streams), newRBACCheckCmd(streams), newRBACReplayCmd(streams))
	cmd.AddCommand(newRBACDiffCmd(streams), newRBACEscalationsCmd(streams))
	return cmd
}

// rbacInputs are the flags every rbac command takes to build its model.
type rbacInputs struct {
	Filenames    []string
	WithDefaults bool
	Kubeconfig   string
}

func (in *rbacInputs) addFlags(cmd *cobra.Command) {
	cmd.Flags().StringArrayVarP(&in.Filenames, "filename", "f", nil, "RBAC manifests: a file, a folder (recursively *.yaml, *.yml, *.json) or - for stdin; repeatable")
	cmd.Flags().BoolVar(&in.WithDefaults, "with-defaults", false, "also load the default ClusterRoles and bindings of a new cluster of the current Kubernetes release")
	cmd.Flags().StringVar(&in.Kubeconfig, "kubeconfig", "", "read the RBAC objects (and CRDs, for type names) of the cluster of this kubeconfig's current context, instead of or as well as -f")
}

func (in *rbacInputs) validate() error {
	if len(in.Filenames) == 0 && !in.WithDefaults && in.Kubeconfig == "" {
		return errors.New("no RBAC manifests: give -f FILE|DIR|- (or --with-defaults, or --kubeconfig F to read a cluster's)")
	}
	return nil
}

// load reads the inputs into a model, printing notes (skipped documents and the like) to errOut.
func (in *rbacInputs) load(streams IOStreams) (*rbacsim.Model, error) {
	defer gctune.Pause()() // the model keeps what loading allocates (see gctune.Pause)
	objs := &rbacsim.Objects{Sources: map[any]rbacsim.Source{}}
	if in.WithDefaults {
		defaults, err := rbacsim.DefaultObjects()
		if err != nil {
			return nil, err
		}
		objs.Append(defaults)
	}
	if in.Kubeconfig != "" {
		live, err := in.readCluster()
		if err != nil {
			return nil, err
		}
		objs.Append(live)
	}
	read, err := rbacsim.ReadPaths(in.Filenames, streams.In)
	if err != nil {
		return nil, err
	}
	objs.Append(read)
	model := rbacsim.NewModel(objs)
	for _, n := range model.Notes() {
		fmt.Fprintln(streams.ErrOut, "note:", n)
	}
	return model, nil
}

// readCluster lists the RBAC objects of the kubeconfig's current context.
func (in *rbacInputs) readCluster() (*rbacsim.Objects, error) {
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(
		&clientcmd.ClientConfigLoadingRules{ExplicitPath: in.Kubeconfig}, &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("--kubeconfig %s: %w", in.Kubeconfig, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return cluster.Read(ctx, cfg)
}

func rbacWarn(streams IOStreams, msg string) {
	fmt.Fprintln(streams.ErrOut, "Warning:", msg)
}
