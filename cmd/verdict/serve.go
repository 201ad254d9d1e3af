package main

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/go-logr/logr"
	"github.com/go-logr/zapr"
	"github.com/spf13/cobra"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/verdict-dev/verdict/policies/bundle"
	"github.com/verdict-dev/verdict/policies/library"
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
	allowedBuiltins []string
	verbosity       int
}

func newServeCmd(streams IOStreams) *cobra.Command {
	o := &serveOptions{streams: streams}
	cmd := &cobra.Command{
		Use:   "serve [--policies PATH]... [--addr :8443] [--cert-dir DIR | --tls-cert F --tls-key F]",
		Short: "Serve the policies as validating and mutating admission webhooks over TLS",
		Long: `Serve POST /validate and POST /mutate (AdmissionReview admission.k8s.io/v1 and v1beta1) over TLS
with the decisions of the policies (the embedded default set without --policies), reloading them when
their files change. Health checks (/healthz, /livez, /readyz, with ?verbose) and Prometheus /metrics
are served in plain HTTP on their own addresses.

Without --tls-cert and --tls-key, the certificate is tls.crt and tls.key in --cert-dir; when they are
not there, a self-signed certificate is made at start-up and written there (default: a new temporary
folder). Both are reloaded when the files change.`,
		Example: `  verdict serve
  verdict serve -p /etc/verdict/policies --cert-dir /tmp/k8s-webhook-server/serving-certs`,
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
	f.StringVar(&o.clientCA, "client-ca", "", "require client certificates signed by this CA (the API server's)")
	f.StringSliceVar(&o.certHosts, "cert-host", webhook.DefaultHosts("verdict-webhook", "verdict-system"), "host names and IPs of a self-signed certificate")
	f.BoolVar(&o.http2, "enable-http2", false, "allow HTTP/2 on the webhook server")
	f.StringVar(&o.metricsAddr, "metrics-addr", ":8080", "address of the Prometheus /metrics endpoint (empty: off)")
	f.StringVar(&o.healthAddr, "health-addr", ":8081", "address of /healthz, /livez and /readyz (empty: off)")
	f.StringVar(&o.kubeconfig, "kubeconfig", "", "read policies, params and inventory from this cluster as well (not supported yet)")
	f.StringSliceVar(&o.allowedBuiltins, "allow-builtin", nil, "Rego builtins that reach outside the evaluation to allow")
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
	if o.kubeconfig != "" {
		return errors.New("--kubeconfig: reading policies from a cluster is not supported yet; mount them as files and use --policies")
	}
	return nil
}

func (o *serveOptions) run(ctx context.Context) error {
	log := newLogger(o.streams, o.verbosity)
	ctrllog.SetLogger(log)
	certFile, keyFile, err := o.certificate(log)
	if err != nil {
		return withCode(exitBadInput, err)
	}
	srv, err := webhook.New(webhook.Options{
		Addr: o.addr, CertFile: certFile, KeyFile: keyFile, ClientCAFile: o.clientCA, HTTP2: o.http2,
		MetricsAddr: o.metricsAddr, HealthAddr: o.healthAddr, Log: log,
		Policies: bundle.Options{Paths: o.policies, Library: library.FS, AllowedBuiltins: o.allowedBuiltins},
	})
	if err != nil {
		return withCode(exitBadInput, err)
	}
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := srv.Run(ctx); err != nil {
		return withCode(exitBadInput, err)
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
		dir = d
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

// newLogger logs JSON lines to the error stream through zap; verbosity v enables logr's V(v).
func newLogger(streams IOStreams, v int) logr.Logger {
	cfg := zap.NewProductionEncoderConfig()
	cfg.EncodeTime = zapcore.ISO8601TimeEncoder
	core := zapcore.NewCore(zapcore.NewJSONEncoder(cfg), zapcore.AddSync(streams.ErrOut), zapcore.Level(-v))
	return zapr.NewLogger(zap.New(core))
}
