package webhook

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/verdict-dev/verdict/internal/testkit"
)

func TestReloadFailureReported(t *testing.T) {
	r := start(t)
	testkit.WriteFile(t, r.policyFile, "")
	testkit.WaitFor(t, 10*time.Second, "/readyz to report the failed reload", func() bool {
		code, body := get(t, "http://"+r.health+"/readyz?verbose")
		return code == 500 && strings.Contains(body, "[-]policy-reload failed: ") && strings.Contains(body, "hold no policy")
	})
	if r.admit(t, 6) {
		t.Fatal("the set in force (at most 5) stopped serving when a reload failed")
	}
	_, metrics := get(t, "http://"+r.metrics+"/metrics")
	if !strings.Contains(metrics, `verdict_policy_reload_failures_total{reason="empty"} 1`) {
		t.Errorf("/metrics does not count the failed reload:\n%s", grep(metrics, "verdict_policy_reload"))
	}
	// A good reload clears it.
	writePolicy(t, r.policyFile, "7")
	testkit.WaitFor(t, 10*time.Second, "/readyz to report the good reload", func() bool {
		code, body := get(t, "http://"+r.health+"/readyz?verbose")
		return code == 200 && strings.Contains(body, "[+]policy-reload ok")
	})
	if !r.admit(t, 6) {
		t.Fatal("the good reload (at most 7) is not in force")
	}
}

func grep(text, word string) string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		if strings.Contains(line, word) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

// TestRemoveThenCopy replaces the policy file as `rm p.yaml; sleep 0.6; cp new.yaml p.yaml` does,
// again and again, while reviews that the policy denies are sent: not one may be allowed.
func TestRemoveThenCopy(t *testing.T) {
	r := start(t)
	source := filepath.Join(t.TempDir(), "new.yaml")
	writePolicy(t, source, "5")

	var sent, allowed atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			body := createReview(t, 6)
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := r.client.Post("https://"+r.webhook+"/validate", "application/json", strings.NewReader(body))
				if err != nil {
					t.Errorf("sending a review: %v", err)
					return
				}
				var rv review
				err = json.NewDecoder(resp.Body).Decode(&rv)
				resp.Body.Close()
				sent.Add(1)
				if err != nil || rv.Response == nil || rv.Response.Allowed {
					allowed.Add(1)
				}
			}
		})
	}
	// At least three replacements and 2,000 reviews, as the load test asks.
	for cycle := 0; cycle < 3 || (sent.Load() < 2000 && cycle < 30); cycle++ {
		if err := os.Remove(r.policyFile); err != nil {
			t.Fatal(err)
		}
		time.Sleep(600 * time.Millisecond)
		copyFile(t, source, r.policyFile)
		time.Sleep(600 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	t.Logf("%d reviews sent during the replacements", sent.Load())
	if allowed.Load() != 0 || sent.Load() == 0 {
		t.Errorf("%d of %d reviews that the policy denies were allowed (or unanswered) while the policy file was replaced", allowed.Load(), sent.Load())
	}
	// Each copy put the policy back in force.
	testkit.WaitFor(t, 10*time.Second, "a good reload of the copied file", func() bool { return r.srv.Policies().Generation() >= 2 && r.srv.Policies().ReloadError() == nil })
}

// copyFile writes src over dst as cp does: truncate, then write.
func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
