package webhook

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"

	"github.com/verdict-dev/verdict/internal/fixtures"
	"github.com/verdict-dev/verdict/internal/testkit"
	"github.com/verdict-dev/verdict/policies/bundle"
	"github.com/verdict-dev/verdict/policies/source"
)

type running struct {
	webhook, health, metrics string
	client                   *http.Client
	srv                      *Server
	cancel                   context.CancelFunc
	done                     chan error
	policyFile, certDir      string
}

// start runs a server on loopback with a self-signed certificate and a policy file it can rewrite,
// with the options changed by each of with.
func start(t *testing.T, with ...func(*Options)) *running {
	t.Helper()
	dir := t.TempDir()
	policyDir := filepath.Join(dir, "policies")
	if err := os.Mkdir(policyDir, 0o755); err != nil {
		t.Fatal(err)
	}
	r := &running{policyFile: filepath.Join(policyDir, "p.yaml"), certDir: filepath.Join(dir, "certs")}
	writePolicy(t, r.policyFile, "5")
	cert, key, err := SelfSigned(r.certDir, []string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	r.webhook, r.health, r.metrics = testkit.FreeAddr(t), testkit.FreeAddr(t), testkit.FreeAddr(t)
	opts := Options{
		Addr: r.webhook, CertFile: cert, KeyFile: key, HealthAddr: r.health, MetricsAddr: r.metrics,
		Policies: bundle.Options{Paths: []string{policyDir}}, Log: logr.Discard(),
	}
	for _, f := range with {
		f(&opts)
	}
	r.srv, err = New(opts)
	if err != nil {
		t.Fatal(err)
	}
	r.client = tlsClient(t, cert)
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel, r.done = cancel, make(chan error, 1)
	go func() { r.done <- r.srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-r.done
	})
	// A handshake is enough: with a client CA, a request without a client certificate would fail.
	testkit.WaitFor(t, 10*time.Second, "a TLS handshake with the webhook", func() bool {
		conn, err := tls.Dial("tcp", r.webhook, r.client.Transport.(*http.Transport).TLSClientConfig)
		if err == nil {
			conn.Close()
		}
		return err == nil
	})
	return r
}

func tlsClient(t *testing.T, certFile string) *http.Client {
	pem, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true,
	}}
}

func (r *running) admit(t *testing.T, replicas int) bool {
	t.Helper()
	resp, err := r.client.Post("https://"+r.webhook+"/validate?timeout=5s", "application/json",
		strings.NewReader(createReview(t, replicas)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.ProtoMajor != 1 {
		t.Errorf("served over HTTP/%d, want HTTP/1.1 (HTTP/2 is off by default)", resp.ProtoMajor)
	}
	var rv review
	if err := json.NewDecoder(resp.Body).Decode(&rv); err != nil {
		t.Fatal(err)
	}
	return rv.Response.Allowed
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestServerOverTLS(t *testing.T) {
	r := start(t)
	if !r.admit(t, 5) || r.admit(t, 6) {
		t.Fatal("the policy of at most 5 replicas is not in force")
	}

	// TLS below 1.2 is refused.
	conn, err := tls.Dial("tcp", r.webhook, &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS11})
	if err == nil {
		conn.Close()
		t.Error("a TLS 1.1 handshake succeeded")
	}

	code, body := get(t, "http://"+r.health+"/readyz?verbose")
	if code != 200 || !strings.Contains(body, "[+]policies ok") || !strings.Contains(body, "readyz check passed") {
		t.Errorf("/readyz?verbose: %d %s", code, body)
	}
	for _, p := range []string{"/healthz", "/livez"} {
		if code, _ := get(t, "http://"+r.health+p); code != 200 {
			t.Errorf("%s: %d", p, code)
		}
	}
	_, metrics := get(t, "http://"+r.metrics+"/metrics")
	for _, m := range []string{`verdict_admission_requests_total{decision="denied",webhook="validate"} 1`, "verdict_policy_set_generation 1", "verdict_admission_request_duration_seconds_bucket",
		`verdict_policy_evaluation_duration_seconds_count{decision="denied",engine="cel",policy="max-replicas"} 1`} {
		if !strings.Contains(metrics, m) {
			t.Errorf("/metrics lacks %s", m)
		}
	}
}

func TestHotReload(t *testing.T) {
	r := start(t)
	writePolicy(t, r.policyFile, "10")
	testkit.WaitFor(t, 10*time.Second, "policy generation 2", func() bool { return r.srv.Policies().Generation() == 2 })
	if !r.admit(t, 6) {
		t.Fatal("the reloaded policy (at most 10) is not in force")
	}
	// A broken policy keeps the set in force.
	if err := os.WriteFile(r.policyFile, []byte("apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\nmetadata: {name: x}\nspec: {validations: [{expression: 'objec'}]}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	time.Sleep(4 * source.ReloadDelay)
	if r.srv.Policies().Generation() != 2 || !r.admit(t, 6) || r.admit(t, 11) {
		t.Fatal("a broken reload changed the policy set in force")
	}
	// Replacing the file by rename, as a ConfigMap volume does, is seen too.
	tmp := filepath.Join(filepath.Dir(r.policyFile), ".tmp")
	writePolicy(t, tmp, "1")
	if err := os.Rename(tmp, r.policyFile); err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, 10*time.Second, "policy generation 3", func() bool { return r.srv.Policies().Generation() == 3 })
	if r.admit(t, 2) {
		t.Fatal("the renamed policy (at most 1) is not in force")
	}
}

func TestCertificateReload(t *testing.T) {
	r := start(t)
	// A new certificate in the same files is served without a restart.
	cert, _, err := SelfSigned(r.certDir, []string{"127.0.0.1", "reloaded.example"})
	if err != nil {
		t.Fatal(err)
	}
	client := tlsClient(t, cert)
	testkit.WaitFor(t, 10*time.Second, "the rotated certificate to be served", func() bool {
		resp, err := client.Get("https://" + r.webhook + "/validate")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return true
	})
}

func TestGracefulShutdown(t *testing.T) {
	r := start(t)
	r.cancel()
	select {
	case err := <-r.done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		r.done <- nil // for the cleanup
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}

func writePolicy(t *testing.T, path, max string) {
	t.Helper()
	testkit.WriteFile(t, path, fixtures.ReplicasPolicy(max))
}
