package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"syscall"

	"github.com/go-logr/logr"
	"github.com/go-logr/zapr"
	"github.com/spf13/cobra"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/verdict-dev/verdict/policies/bundle"
	"github.com/verdict-dev/verdict/policies/library"
	"github.com/verdict-dev/verdict/policies/source"
	"github.com/verdict-dev/verdict/webhook"
)

type serveOptions struct {
	streams         IOStreams
	policies        []string
	addr            string
	certDir         string
	tlsCert         string
	tlsKey          string
	clientCA        string
	certHosts       []string
	http2           bool
	metricsAddr     string
	healthAddr      string
	kubeconfig      string
	fromCluster     bool
	sync            []string
	syncKinds       []schema.GroupVersionKind
	allowedBuiltins []string
	allowEmpty      bool
	verbosity       int

	tempCertDir string // the temporary folder certificate made, removed when serve exits
}

func newServeCmd(streams IOStreams) *cobra.Command {
	o := &serveOptions{streams: streams}
	cmd := &cobra.Command{
		Use:   "serve [--policies PATH]... [--addr :8443] [--cert-dir DIR | --tls-cert F --tls-key F] [--kubeconfig F | --from-cluster] [--sync GROUP/VERSION/KIND]...",
		Short: "Serve the policies as validating and mutating admission webhooks over TLS",
		Long: `Serve POST /validate and POST /mutate (AdmissionReview admission.k8s.io/v1 and v1beta1) over TLS
with the decisions of the policies (the embedded default set without --policies), reloading them when
their files change. A reload that does not compile, yields no policy, or loses a file or Rego package
of the set in force fails: the set in force keeps serving, and /readyz shows the failing
policy-reload check with its reason until a reload succeeds (taking a policy away needs a restart).
Without --allow-empty, serve refuses to start with no policy. Health checks (/healthz, /livez, /readyz, with ?verbose) and Prometheus /metrics
are served in plain HTTP on their own addresses.

Without --tls-cert and --tls-key, the certificate is tls.crt and tls.key in --cert-dir; when they are
not there, a self-signed certificate is made at start-up and written there (default: a new temporary
folder). Both are reloaded when the files change.

With --kubeconfig (or --from-cluster, in a pod: the pod's service account), the policies of the
files are joined by those the cluster holds: ValidatingAdmissionPolicies, MutatingAdmissionPolicies
and their bindings, Gatekeeper ConstraintTemplates and constraints (whatever of these kinds the API
server serves; constraint kinds created later are found within 30s). The Namespaces, the params of
the policies and the kinds named by --sync (Gatekeeper's data.inventory, as its Config syncOnly) are
read from a watch cache. Every change loads the set again; a cluster policy that does not compile is
left out and logged. /readyz fails until the cluster's policies were read once (discovery answered,
the cache synced, the set loaded), and /readyz?verbose says why (an API server that cannot be reached).

Requests are bounded: a body must arrive within 10s of the request's start (408), a Content-Length over
7 MiB is refused before it is read (413), the bodies in flight are bounded to 64 MiB (429, Retry-After),
and ?timeout= is taken up to 30s. --client-ca is read again when the file changes.`,
		Example: `  verdict serve
  verdict serve -p /etc/verdict/policies --cert-dir /tmp/k8s-webhook-server/serving-certs
  verdict serve --kubeconfig ~/.kube/config --sync networking.k8s.io/v1/Ingress --sync v1/Namespace
  verdict serve --from-cluster -p /etc/verdict/policies`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.validate(); err != nil {
				return withCode(exitBadInput, err)
			}
			return o.run(cmd.Context())
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&o.policies, "policies", "p", nil, "policy file or folder (repeatable); default: the embedded policy set")
	f.StringVar(&o.addr, "addr", ":8443", "address of the TLS webhook server")
	f.StringVar(&o.certDir, "cert-dir", "", "folder of tls.crt and tls.key; a self-signed pair is written there when absent (default: a temporary folder)")
	f.StringVar(&o.tlsCert, "tls-cert", "", "serving certificate file (with --tls-key)")
	f.StringVar(&o.tlsKey, "tls-key", "", "serving key file (with --tls-cert)")
	f.StringVar(&o.clientCA, "client-ca", "", "require client certificates signed by this CA (the API server's); reloaded when the file changes")
	f.StringSliceVar(&o.certHosts, "cert-host", webhook.DefaultHosts("verdict-webhook", "verdict-system"), "host names and IPs of a self-signed certificate")
	f.BoolVar(&o.http2, "enable-http2", false, "allow HTTP/2 on the webhook server")
	f.StringVar(&o.metricsAddr, "metrics-addr", ":8080", "address of the Prometheus /metrics endpoint (empty: off)")
	f.StringVar(&o.healthAddr, "health-addr", ":8081", "address of /healthz, /livez and /readyz (empty: off)")
	f.StringVar(&o.kubeconfig, "kubeconfig", "", "read policies, params and inventory from the cluster of this kubeconfig file as well")
	f.BoolVar(&o.fromCluster, "from-cluster", false, "read policies, params and inventory from the cluster as well: from --kubeconfig, or in a pod from its service account")
	f.StringArrayVar(&o.sync, "sync", nil, "kind whose objects Gatekeeper templates see in data.inventory, as GROUP/VERSION/KIND or v1/KIND (repeatable; with --kubeconfig or --from-cluster)")
	f.StringSliceVar(&o.allowedBuiltins, "allow-builtin", nil, "Rego builtins that reach outside the evaluation to allow")
	f.BoolVar(&o.allowEmpty, "allow-empty", false, "start (and reload) with no policy at all; without it, a policy set of no policy is an error")
	f.IntVarP(&o.verbosity, "v", "v", 0, "log verbosity: 0 logs denials and changes, 1 every request")
	return cmd
}

func (o *serveOptions) validate() error {
	if (o.tlsCert == "") != (o.tlsKey == "") {
		return errors.New("--tls-cert and --tls-key go together")
	}
	if o.tlsCert != "" && o.certDir != "" {
		return errors.New("give either --cert-dir or --tls-cert and --tls-key, not both")
	}
	for _, s := range o.sync {
		gvk, err := source.ParseKind(s)
		if err != nil {
			return fmt.Errorf("--sync %q: %w", s, err)
		}
		o.syncKinds = append(o.syncKinds, gvk)
	}
	if !o.readsCluster() {
		if len(o.sync) > 0 {
			return errors.New("--sync needs --kubeconfig or --from-cluster")
		}
		return nil
	}
	if slices.Contains(o.policies, "-") {
		return errors.New("serve reads no policies from standard input")
	}
	return nil
}

func (o *serveOptions) readsCluster() bool { return o.kubeconfig != "" || o.fromCluster }

// restConfig reaches the cluster: the --kubeconfig file, or in a pod its service account.
func (o *serveOptions) restConfig() (*rest.Config, error) {
	if o.kubeconfig != "" {
		cfg, err := clientcmd.BuildConfigFromFlags("", o.kubeconfig)
		if err != nil {
			return nil, fmt.Errorf("--kubeconfig: %w", err)
		}
		return cfg, nil
	}
	cfg, err := rest.InClusterConfig()
	if err != nil {
		return nil, fmt.Errorf("--from-cluster without --kubeconfig runs in a pod: %w", err)
	}
	return cfg, nil
}

// run serves until ctx is done. Every line serve writes is a JSON log line: the servers' own error
// logs (TLS handshake and connection errors go through the standard log package) and the error
// that stops it.
func (o *serveOptions) run(ctx context.Context) error {
	zl := newZapLogger(o.streams, o.verbosity)
	log := zapr.NewLogger(zl)
	ctrllog.SetLogger(log)
	if restore, err := zap.RedirectStdLogAt(zl.Named("http"), zapcore.ErrorLevel); err == nil {
		defer restore()
	}
	if err := o.serve(ctx, log); err != nil {
		log.Error(err, "serve stopped")
		return withCode(exitBadInput, nil)
	}
	return nil
}

func (o *serveOptions) serve(ctx context.Context, log logr.Logger) error {
	certFile, keyFile, err := o.certificate(log)
	if o.tempCertDir != "" {
		defer os.RemoveAll(o.tempCertDir) // a folder serve made is serve's to remove
	}
	if err != nil {
		return err
	}
	var cluster *source.ClusterOptions
	if o.readsCluster() {
		cfg, err := o.restConfig()
		if err != nil {
			return err
		}
		cluster = &source.ClusterOptions{Config: cfg, Sync: o.syncKinds}
	}
	srv, err := webhook.New(webhook.Options{
		Addr: o.addr, CertFile: certFile, KeyFile: keyFile, ClientCAFile: o.clientCA, HTTP2: o.http2,
		MetricsAddr: o.metricsAddr, HealthAddr: o.healthAddr, Log: log,
		Policies: bundle.Options{Paths: o.policies, Library: library.FS, AllowedBuiltins: o.allowedBuiltins}, AllowEmpty: o.allowEmpty,
		Cluster: cluster,
	})
	if err != nil {
		return err
	}
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := srv.Run(ctx); err != nil {
		return err
	}
	return nil
}

// certificate finds or makes the serving certificate.
func (o *serveOptions) certificate(log logr.Logger) (string, string, error) {
	if o.tlsCert != "" {
		return o.tlsCert, o.tlsKey, nil
	}
	dir := o.certDir
	if dir != "" {
		cert, key := filepath.Join(dir, webhook.CertName), filepath.Join(dir, webhook.KeyName)
		if fileExists(cert) && fileExists(key) {
			return cert, key, nil
		}
	} else {
		d, err := os.MkdirTemp("", "verdict-serving-certs-")
		if err != nil {
			return "", "", err
		}
		dir, o.tempCertDir = d, d
	}
	cert, key, err := webhook.SelfSigned(dir, o.certHosts)
	if err != nil {
		return "", "", err
	}
	log.Info("made a self-signed serving certificate", "cert", cert, "key", key, "hosts", o.certHosts)
	return cert, key, nil
}

func fileExists(p string) bool {
	info, err := os.Stat(p)
	return err == nil && !info.IsDir()
}

// newZapLogger logs JSON lines to the error stream; verbosity v enables logr's V(v) through zapr.
func newZapLogger(streams IOStreams, v int) *zap.Logger {
	cfg := zap.NewProductionEncoderConfig()
	cfg.EncodeTime = zapcore.ISO8601TimeEncoder
	return zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(cfg), zapcore.Lock(zapcore.AddSync(streams.ErrOut)), zapcore.Level(-v)))
}
