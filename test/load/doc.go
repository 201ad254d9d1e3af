// Package load is verdict's load test (make load): it starts `verdict serve` (and, when given, OPA's
// server on an equivalent Rego policy) on loopback and sends AdmissionReviews over TLS with
// keep-alive, first as fast as it can, then at a fixed rate, and reports throughput, latency
// percentiles and errors. It is a test only so that `go test` builds it; it runs only with -load.
package load
