package webhook

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/verdict-dev/verdict/policies"
	"github.com/verdict-dev/verdict/policies/source"
)

// metrics are the server's Prometheus metrics.
type metrics struct {
	Requests         *prometheus.CounterVec
	Latency          *prometheus.HistogramVec
	PolicyLatency    *prometheus.HistogramVec
	Findings         *prometheus.CounterVec
	EvaluationErrors *prometheus.CounterVec
	Panics           *prometheus.CounterVec
	Generation       prometheus.Gauge
	Reloads          *prometheus.CounterVec
	ReloadFailures   *prometheus.CounterVec
	Policies         prometheus.Gauge
}

// newMetrics creates the metrics and registers them with reg.
func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "verdict_admission_requests_total",
			Help: "Admission requests answered, by webhook (validate, mutate) and decision (allowed, denied, patched, error, bad_request, throttled).",
		}, []string{"webhook", "decision"}),
		Latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "verdict_admission_request_duration_seconds",
			Help:    "Time to answer an admission request, from reading it to writing the answer, by webhook and decision.",
			Buckets: []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10},
		}, []string{"webhook", "decision"}),
		PolicyLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "verdict_policy_evaluation_duration_seconds",
			Help:    "Time one policy took to judge a request, by policy, engine (cel, rego) and decision (allowed, warned, denied).",
			Buckets: []float64{0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25, 1},
		}, []string{"policy", "engine", "decision"}),
		Findings: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "verdict_policy_findings_total",
			Help: "Findings of the policies, by policy and action (deny, warn, audit).",
		}, []string{"policy", "action"}),
		EvaluationErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "verdict_policy_evaluation_errors_total",
			Help: "Requests denied because a policy failed to evaluate, by webhook.",
		}, []string{"webhook"}),
		Panics: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "verdict_admission_panics_total",
			Help: "Requests denied because answering them panicked (a bug), by webhook.",
		}, []string{"webhook"}),
		Generation: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "verdict_policy_set_generation",
			Help: "Generation of the policy set in force; it grows by one at each successful load.",
		}),
		Reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "verdict_policy_set_loads_total",
			Help: "Loads of the policy set, by result (success, failure).",
		}, []string{"result"}),
		ReloadFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "verdict_policy_reload_failures_total",
			Help: "Loads of the policy set that failed, keeping the set in force, by reason (compile: does not compile or cannot be read; empty: no policy; lost: a file or Rego package of the set in force is gone; changing: the files kept changing while read).",
		}, []string{"reason"}),
		Policies: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "verdict_policies",
			Help: "Policies in the set in force.",
		}),
	}
	reg.MustRegister(m.Requests, m.Latency, m.PolicyLatency, m.Findings, m.EvaluationErrors, m.Panics, m.Generation, m.Reloads, m.ReloadFailures, m.Policies)
	return m
}

// Loaded counts a load of the policy set that put it in force (source.LoadObserver).
func (m *metrics) Loaded(generation int64, policies int) {
	m.Reloads.WithLabelValues("success").Inc()
	m.Generation.Set(float64(generation))
	m.Policies.Set(float64(policies))
}

// LoadFailed counts a load of the policy set that failed, by reason (source.LoadObserver).
func (m *metrics) LoadFailed(reason string) {
	m.Reloads.WithLabelValues("failure").Inc()
	m.ReloadFailures.WithLabelValues(reason).Inc()
}

var _ source.LoadObserver = (*metrics)(nil)

func (m *metrics) observe(hook hook, decision string, d time.Duration) {
	if m == nil {
		return
	}
	m.Requests.WithLabelValues(string(hook), decision).Inc()
	m.Latency.WithLabelValues(string(hook), decision).Observe(d.Seconds())
}

func (m *metrics) findings(fs []policies.Finding) {
	if m == nil {
		return
	}
	for _, f := range fs {
		m.Findings.WithLabelValues(f.Policy, string(f.Action)).Inc()
	}
}

func (m *metrics) evaluationError(hook hook) {
	if m != nil {
		m.EvaluationErrors.WithLabelValues(string(hook)).Inc()
	}
}

func (m *metrics) panicked(hook hook) {
	if m != nil {
		m.Panics.WithLabelValues(string(hook)).Inc()
	}
}

// observer reports each policy's evaluation to the per-policy histogram.
func (m *metrics) observer() policies.Observer {
	return func(policy string, engine policies.Engine, decision string, elapsed time.Duration) {
		m.PolicyLatency.WithLabelValues(policy, string(engine), decision).Observe(elapsed.Seconds())
	}
}
