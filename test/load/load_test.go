package load

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/verdict-dev/verdict/internal/testkit"
	"github.com/verdict-dev/verdict/webhook"
)

var (
	run      = flag.Bool("load", false, "run the load test")
	duration = flag.Duration("duration", 10*time.Second, "length of each phase")
	rate     = flag.Int("rate", 1000, "requests per second of the fixed-rate phase")
	conns    = flag.Int("conns", 32, "keep-alive connections")
	cpu      = flag.String("server-cpu", "1", "the CPU the servers are pinned to (taskset -c, GOMAXPROCS=1); empty: not pinned")
	verdict  = flag.String("verdict", "../../bin/verdict", "the verdict binary")
	opa      = flag.String("opa", "", "an opa binary to measure on the same load (optional)")
)

// reviews are the request bodies: Pods and Deployments, a fifth of them violating a policy.
func reviews() [][]byte {
	var out [][]byte
	for i := 0; i < 100; i++ {
		image := fmt.Sprintf("registry.example.com/app%d:1.%d", i, i%7)
		if i%5 == 0 {
			image = "nginx:latest"
		}
		container := map[string]any{"name": "app", "image": image,
			"resources":       map[string]any{"limits": map[string]any{"memory": "256Mi", "cpu": "500m"}, "requests": map[string]any{"cpu": "100m", "memory": "128Mi"}},
			"securityContext": map[string]any{"allowPrivilegeEscalation": false, "capabilities": map[string]any{"drop": []any{"ALL"}}}}
		podSpec := map[string]any{"containers": []any{container},
			"securityContext": map[string]any{"runAsNonRoot": true, "seccompProfile": map[string]any{"type": "RuntimeDefault"}}}
		meta := map[string]any{"name": fmt.Sprintf("app-%d", i), "namespace": "team-a", "labels": map[string]any{"app.kubernetes.io/name": "app"}}
		var kind, group, resource string
		var obj map[string]any
		if i%2 == 0 {
			kind, resource = "Pod", "pods"
			obj = map[string]any{"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": podSpec}
		} else {
			kind, group, resource = "Deployment", "apps", "deployments"
			obj = map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta, "spec": map[string]any{
				"replicas": 2, "selector": map[string]any{"matchLabels": map[string]any{"app": "a"}},
				"template": map[string]any{"metadata": map[string]any{"labels": map[string]any{"app": "a"}}, "spec": podSpec}}}
		}
		version := "v1"
		body, _ := json.Marshal(map[string]any{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": map[string]any{
			"uid": fmt.Sprintf("uid-%d", i), "kind": map[string]any{"group": group, "version": version, "kind": kind},
			"resource": map[string]any{"group": group, "version": version, "resource": resource}, "namespace": "team-a", "name": meta["name"],
			"operation": "CREATE", "userInfo": map[string]any{"username": "load"}, "object": obj}})
		out = append(out, body)
	}
	return out
}

// target is a server under load: where to send, and how to wrap a review.
type target struct {
	name string
	url  string
	wrap func([]byte) []byte
}

type result struct {
	name           string
	throughput     float64
	requests       int64
	errors         int64
	p50, p99, pmax time.Duration
	sent           int64
}

func TestLoad(t *testing.T) {
	if !*run {
		t.Skip("the load test runs with -load (make load)")
	}
	dir := t.TempDir()
	cert, key, err := webhook.SelfSigned(filepath.Join(dir, "certs"), []string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	client := newClient(t, cert)
	bodies := reviews()
	// The generator's own collections pause its goroutines; it allocates little (see conn), and
	// collects seldom.
	debug.SetGCPercent(800)

	var targets []target
	// The floor: what a review costs the server with nothing to judge (TLS, HTTP, decoding the
	// review, encoding the answer), and the latency the machine itself adds.
	empty := filepath.Join(dir, "no-policy")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	targets = append(targets, target{name: "verdict serve, no policy (the floor)", url: startVerdict(t, cert, key, []string{empty}, "--allow-empty") + "/validate?timeout=10s"})
	targets = append(targets, target{name: "verdict serve, embedded default set", url: startVerdict(t, cert, key, nil) + "/validate?timeout=10s"})
	// One rule (admission.rego's) in each format verdict serves, then in OPA's server.
	for _, f := range []struct{ name, file string }{
		{"verdict serve, the rule as a Gatekeeper template", "gatekeeper.yaml"},
		{"verdict serve, the rule as a VAP", "vap.yaml"},
		{"verdict serve, the rule as plain Rego", "admission.rego"},
	} {
		path, _ := filepath.Abs(filepath.Join("testdata", f.file))
		targets = append(targets, target{name: f.name, url: startVerdict(t, cert, key, []string{path}) + "/validate?timeout=10s"})
	}
	regoPolicy, _ := filepath.Abs("testdata/admission.rego")
	if *opa != "" {
		targets = append(targets, target{name: "opa run --server, the rule", url: startOPA(t, cert, key, regoPolicy) + "/v1/data/kubernetes/admission/deny",
			wrap: func(b []byte) []byte { return append(append([]byte(`{"input":`), b...), '}') }})
	}
	var results []result
	for _, tg := range targets {
		if tg.wrap != nil {
			wrapped := make([][]byte, len(bodies))
			for i, b := range bodies {
				wrapped[i] = tg.wrap(b)
			}
			tg.wrap = nil
			results = append(results, measure(t, client, tg, wrapped))
		} else {
			results = append(results, measure(t, client, tg, bodies))
		}
	}
	fmt.Printf("\n%-40s %12s %10s %8s %10s %10s %10s\n", "server", "max rev/s", "errors", "rate", "p50", "p99", "max")
	for _, r := range results {
		fmt.Printf("%-40s %12.0f %10d %8d %10s %10s %10s\n", r.name, r.throughput, r.errors, *rate, r.p50.Round(time.Microsecond), r.p99.Round(time.Microsecond), r.pmax.Round(time.Microsecond))
		if r.errors > 0 {
			t.Errorf("%s: %d errors", r.name, r.errors)
		}
	}
}

// measure runs the two phases against one target.
func measure(t *testing.T, client *tls.Config, tg target, bodies [][]byte) result {
	t.Helper()
	res := result{name: tg.name}
	pool := make([]*conn, *conns*4)
	for i := range pool {
		c, err := dial(client, tg.url)
		if err != nil {
			t.Fatalf("%s: %v", tg.name, err)
		}
		defer c.close()
		pool[i] = c
	}
	// Warm up: connections, caches.
	for i := 0; i < 200; i++ {
		if err := pool[i%len(pool)].send(bodies[i%len(bodies)]); err != nil {
			t.Fatalf("%s: %v", tg.name, err)
		}
	}
	// Phase 1: as fast as the connections go.
	var done, errs atomic.Int64
	ctx, cancel := context.WithTimeout(context.Background(), *duration)
	var wg sync.WaitGroup
	start := time.Now()
	for c := 0; c < *conns; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			for i := c; ctx.Err() == nil; i += *conns {
				if err := pool[c].send(bodies[i%len(bodies)]); err != nil {
					errs.Add(1)
				}
				done.Add(1)
			}
		}(c)
	}
	wg.Wait()
	cancel()
	res.throughput = float64(done.Load()) / time.Since(start).Seconds()
	res.requests, res.errors = done.Load(), errs.Load()

	// Phase 2: a fixed rate; latency is measured from when each request was due, so that a stall
	// counts for every request it delays.
	n := int(duration.Seconds() * float64(*rate))
	interval := time.Second / time.Duration(*rate)
	latencies := make([]time.Duration, n)
	jobs := make(chan int, n)
	start = time.Now()
	for w := range pool {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				// From when the request was due, when the worker was busy past it (a server that
				// stalls delays every request due meanwhile); from when it woke, when it slept until
				// it (its timer wakes up to a millisecond late: epoll's timeout is in milliseconds).
				from := start.Add(time.Duration(i) * interval)
				if d := time.Until(from); d > 0 {
					time.Sleep(d)
					from = time.Now()
				}
				if err := pool[w].send(bodies[i%len(bodies)]); err != nil {
					errs.Add(1)
				}
				latencies[i] = time.Since(from)
			}
		}()
	}
	for i := 0; i < n; i++ {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	res.errors = errs.Load()
	res.sent = int64(n)
	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	res.p50, res.p99, res.pmax = latencies[n/2], latencies[n*99/100], latencies[n-1]
	return res
}

// conn is one keep-alive TLS connection of the load generator, which writes each request as one
// pre-framed HTTP/1.1 message and reads the answer with a minimal parser: net/http's client (its
// transport's goroutines and per-request objects) cost the generator as much as a review costs the
// server, so that it, not the server, bounded the throughput measured.
type conn struct {
	c      *tls.Conn
	r      *bufio.Reader
	header []byte // the request line and headers up to Content-Length's value
	out    []byte
	body   []byte
}

func dial(config *tls.Config, url string) (*conn, error) {
	hostPath := strings.TrimPrefix(url, "https://")
	host, path, _ := strings.Cut(hostPath, "/")
	c, err := tls.Dial("tcp", host, config)
	if err != nil {
		return nil, err
	}
	header := fmt.Appendf(nil, "POST /%s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: ", path, host)
	return &conn{c: c, r: bufio.NewReaderSize(c, 16<<10), header: header}, nil
}

func (c *conn) close() { _ = c.c.Close() }

// send posts one body and reads the answer: HTTP 200 with a review (or OPA's result) in it.
func (c *conn) send(body []byte) error {
	c.out = append(append(strconv.AppendInt(append(c.out[:0], c.header...), int64(len(body)), 10), "\r\n\r\n"...), body...)
	if _, err := c.c.Write(c.out); err != nil {
		return err
	}
	status, err := c.r.ReadSlice('\n')
	if err != nil {
		return err
	}
	ok := bytes.HasPrefix(status, []byte("HTTP/1.1 200 "))
	length := -1
	for {
		line, err := c.r.ReadSlice('\n')
		if err != nil {
			return err
		}
		if len(line) <= 2 {
			break
		}
		if name, value, found := bytes.Cut(line, []byte(":")); found && bytes.EqualFold(name, []byte("Content-Length")) {
			if length, err = strconv.Atoi(string(bytes.TrimSpace(value))); err != nil {
				return err
			}
		}
	}
	if length < 0 {
		return fmt.Errorf("an answer without Content-Length: %s", status)
	}
	if cap(c.body) < length {
		c.body = make([]byte, length)
	}
	c.body = c.body[:length]
	if _, err := io.ReadFull(c.r, c.body); err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%s: %s", bytes.TrimSpace(status), c.body)
	}
	if !bytes.Contains(c.body, []byte(`"result"`)) && !bytes.Contains(c.body, []byte(`"response"`)) {
		return fmt.Errorf("unexpected answer: %s", c.body)
	}
	return nil
}

func newClient(t *testing.T, certFile string) *tls.Config {
	pem, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	return &tls.Config{RootCAs: pool, NextProtos: []string{"http/1.1"}}
}

func startVerdict(t *testing.T, cert, key string, policies []string, flags ...string) string {
	t.Helper()
	addr := testkit.FreeAddr(t)
	args := []string{"serve", "--addr", addr, "--tls-cert", cert, "--tls-key", key, "--metrics-addr", "", "--health-addr", testkit.FreeAddr(t)}
	for _, p := range policies {
		args = append(args, "--policies", p)
	}
	args = append(args, flags...)
	return startProcess(t, *verdict, args, addr)
}

func startOPA(t *testing.T, cert, key, policy string) string {
	t.Helper()
	addr := testkit.FreeAddr(t)
	return startProcess(t, *opa, []string{"run", "--server", "--addr", addr, "--tls-cert-file", cert, "--tls-private-key-file", key,
		"--log-level", "error", policy}, addr)
}

func startProcess(t *testing.T, bin string, args []string, addr string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	if *cpu != "" {
		// The server on one core, as the issue measures it; the load generator (make load runs
		// it under taskset -c 0) on the other.
		if taskset, err := exec.LookPath("taskset"); err == nil {
			cmd = exec.Command(taskset, append([]string{"-c", *cpu, bin}, args...)...)
		}
		cmd.Env = append(os.Environ(), "GOMAXPROCS=1")
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", bin, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return "https://" + addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not listen on %s", bin, addr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
