package webhook

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/sync/errgroup"
	"sigs.k8s.io/controller-runtime/pkg/certwatcher"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	ctrlwebhook "sigs.k8s.io/controller-runtime/pkg/webhook"

	"github.com/verdict-dev/verdict/policies/bundle"
	"github.com/verdict-dev/verdict/policies/source"
)

// Options configure the server.
type Options struct {
	// Addr is the webhook's TLS address, host:port.
	Addr string
	// CertFile and KeyFile are the serving certificate; they are reloaded when they change.
	CertFile, KeyFile string
	// ClientCAFile, when set, makes the server require and verify client certificates (the API
	// server's) against it; it is read again when it changes.
	ClientCAFile string
	// HTTP2 allows HTTP/2, off by default (CVE-2023-44487 and friends).
	HTTP2 bool
	// MetricsAddr and HealthAddr serve /metrics and /healthz, /livez, /readyz in plain HTTP; empty
	// turns them off.
	MetricsAddr, HealthAddr string
	// Policies say where the policies come from.
	Policies bundle.Options
	// AllowEmpty lets the server start, and reload, with no policy at all; without it, a set of no
	// policy is an error at start and a failed reload later.
	AllowEmpty bool
	// Cluster, when set, adds the policies, params, Namespaces and inventory of a cluster to those of
	// Policies (see source.Cluster).
	Cluster *source.ClusterOptions
	// ReadTimeout bounds the time from the start of a request to the end of its body;
	// 10 s (defaultReadTimeout) when zero.
	ReadTimeout time.Duration
	// MaxInFlightBytes bounds the bodies of the reviews being answered at once (see inFlightBound);
	// 64 MiB (defaultInFlightBytes) when zero.
	MaxInFlightBytes int64
	Log              logr.Logger
}

// Server is a running admission server.
type Server struct {
	opts     Options
	policies *source.PolicySet
	metrics  *metrics
	gatherer prometheus.Gatherer
	certs    *certwatcher.CertWatcher
	cluster  *source.Cluster // nil without Options.Cluster
	inFlight *inFlightBound  // shared by /validate and /mutate
}

// New prepares a server: it registers its metrics and reads the certificate.
func New(opts Options) (*Server, error) {
	if opts.CertFile == "" || opts.KeyFile == "" {
		return nil, errors.New("a serving certificate and key are required")
	}
	cw, err := certwatcher.New(opts.CertFile, opts.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("reading the serving certificate: %w", err)
	}
	// Each server has its own registry, so that servers in one process (tests) do not collide;
	// controller-runtime's registry (its webhook metrics) is served beside it.
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := newMetrics(reg)
	s := &Server{
		opts:     opts,
		metrics:  metrics,
		gatherer: prometheus.Gatherers{reg, ctrlmetrics.Registry},
		policies: source.NewPolicySet(opts.Policies, opts.Log.WithName("policies"), metrics),
		certs:    cw,
		inFlight: newInFlightBound(cmp.Or(opts.MaxInFlightBytes, defaultInFlightBytes)),
	}
	if opts.AllowEmpty {
		s.policies.AllowEmpty()
	}
	if opts.Cluster != nil {
		if opts.Cluster.Config == nil {
			return nil, errors.New("reading policies from a cluster needs a client configuration")
		}
		s.cluster = source.NewCluster(*opts.Cluster, s.policies, opts.Log.WithName("cluster"))
	}
	return s, nil
}

// Policies returns the server's policy set.
func (s *Server) Policies() *source.PolicySet { return s.policies }

// clusterSource returns the server's cluster source, or nil when it reads no cluster.
func (s *Server) clusterSource() *source.Cluster { return s.cluster }

// handlers returns the webhook handlers by path.
func (s *Server) handlers() map[string]http.Handler {
	log := s.opts.Log.WithName("admission")
	return map[string]http.Handler{
		"/validate": &handler{Hook: validatingHook, Policies: s.policies, Log: log, Metrics: s.metrics, InFlight: s.inFlight, ReadTimeout: s.opts.ReadTimeout},
		"/mutate":   &handler{Hook: mutatingHook, Policies: s.policies, Log: log, Metrics: s.metrics, InFlight: s.inFlight, ReadTimeout: s.opts.ReadTimeout},
	}
}

// Run serves until ctx is done, then finishes the requests in flight and returns. It loads the
// policies first; a policy set that does not compile at start is an error.
func (s *Server) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	g, ctx := errgroup.WithContext(ctx)
	if s.opts.HealthAddr != "" {
		mux := http.NewServeMux()
		installHealth(mux, "healthz", ping)
		installHealth(mux, "livez", ping)
		installHealth(mux, "readyz", s.readyChecks()...)
		g.Go(func() error { return serveHTTP(ctx, s.opts.HealthAddr, mux) })
	}
	if s.opts.MetricsAddr != "" {
		mux := http.NewServeMux()
		mux.Handle("/metrics", promhttp.HandlerFor(s.gatherer, promhttp.HandlerOpts{}))
		g.Go(func() error { return serveHTTP(ctx, s.opts.MetricsAddr, mux) })
	}
	// Watch before the first load, so that no change made in between is missed.
	g.Go(func() error { return s.policies.Watch(ctx) })
	select {
	case <-s.policies.Watching():
	case <-ctx.Done():
	}
	if err := s.policies.Load(ctx); err != nil {
		cancel()
		_ = g.Wait()
		return fmt.Errorf("loading policies: %w", err)
	}
	if s.cluster != nil {
		g.Go(func() error { return s.cluster.Run(ctx) })
	}
	g.Go(func() error { return s.certs.Start(ctx) })

	host, portText, err := net.SplitHostPort(s.opts.Addr)
	if err != nil {
		return fmt.Errorf("--addr %q: %w", s.opts.Addr, err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return fmt.Errorf("--addr %q: the port is not a number", s.opts.Addr)
	}
	tlsOpts, err := s.tlsOptions()
	if err != nil {
		return err
	}
	srv := ctrlwebhook.NewServer(ctrlwebhook.Options{Host: host, Port: port, TLSOpts: tlsOpts})
	for path, h := range s.handlers() {
		srv.Register(path, h)
	}
	s.opts.Log.Info("serving admission webhooks", "addr", s.opts.Addr, "cert", s.opts.CertFile, "validate", "/validate", "mutate", "/mutate")
	g.Go(func() error { return srv.Start(ctx) })
	return g.Wait()
}

// readyChecks are the checks of /readyz.
func (s *Server) readyChecks() []check {
	checks := []check{
		ping,
		{name: "policies", fn: s.policies.Ready},
		// The set in force keeps serving while this fails: the check says that it is not what the
		// files say, and a probe that should not take the pod out for it excludes it.
		{name: "policy-reload", fn: s.policies.ReloadError},
		{name: "serving-certificate", fn: func() error {
			_, err := s.certs.GetCertificate(nil)
			return err
		}},
	}
	if s.cluster != nil {
		checks = append(checks, check{name: "cluster-policies", fn: s.cluster.Ready})
	}
	return checks
}

func (s *Server) tlsOptions() ([]func(*tls.Config), error) {
	var clientCAs *clientCAs
	if s.opts.ClientCAFile != "" {
		var err error
		if clientCAs, err = newClientCAs(s.opts.ClientCAFile, s.opts.Log.WithName("client-ca")); err != nil {
			return nil, err
		}
	}
	return []func(*tls.Config){func(c *tls.Config) {
		c.MinVersion = tls.VersionTLS12
		c.GetCertificate = s.certs.GetCertificate
		if !s.opts.HTTP2 {
			c.NextProtos = []string{"http/1.1"}
		}
		if clientCAs != nil {
			// The pool at start, and each handshake's own from the file as it is then.
			c.ClientCAs = clientCAs.pool
			c.ClientAuth = tls.RequireAndVerifyClientCert
			c.GetConfigForClient = clientCAs.configFor(c)
		}
	}}, nil
}

// serveHTTP serves plain HTTP on addr until ctx is done.
func serveHTTP(ctx context.Context, addr string, h http.Handler) error {
	srv := &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 10 * time.Second}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
