package e2e

import (
	"os"
	"testing"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
)

func TestMain(m *testing.M) {
	// envtest logs through controller-runtime's global logger, which complains
	// on stderr unless it is set once per test binary. The control plane's own
	// output is logged by the controlplane package when a test fails.
	ctrllog.SetLogger(logr.Discard())
	os.Exit(m.Run())
}
