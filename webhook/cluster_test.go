package webhook

import (
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	"github.com/verdict-dev/verdict/internal/testkit"
	"github.com/verdict-dev/verdict/policies/source"
)

func TestClusterUnreachableIsNotReady(t *testing.T) {
	cfg := &rest.Config{Host: "http://" + testkit.FreeAddr(t)}
	r := start(t, func(o *Options) { o.Cluster = &source.ClusterOptions{Config: cfg} })
	var body string
	testkit.WaitFor(t, 10*time.Second, "/readyz to say the cluster cannot be reached", func() bool {
		var code int
		code, body = get(t, "http://"+r.health+"/readyz?verbose")
		return code == 500 && strings.Contains(body, "[-]cluster-policies failed: the API server cannot be reached: ") &&
			strings.Contains(body, "connection refused")
	})
	// Discovery was asked again, and more than one rebuild's time went by: still not ready.
	attempts := r.srv.clusterSource().Attempts()
	testkit.WaitFor(t, 10*time.Second, "two more attempts to reach the cluster", func() bool { return r.srv.clusterSource().Attempts() >= attempts+2 })
	if code, body := get(t, "http://"+r.health+"/readyz?verbose"); code != 500 || strings.Contains(body, "[+]cluster-policies ok") {
		t.Errorf("/readyz with an API server that cannot be reached: %d\n%s", code, body)
	}
	// The files' policies serve meanwhile.
	if r.admit(t, 6) {
		t.Error("the files' policy (at most 5) is not in force")
	}
}
