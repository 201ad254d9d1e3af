package bundle

import (
	"context"
	"sync"
	"testing"

	"github.com/verdict-dev/verdict/manifest"
	"github.com/verdict-dev/verdict/policies"
)

// A Bundle is shared by every request of the webhook: judging and mutating from many goroutines at
// once must give each the same answer (run with -race).
func TestConcurrentUse(t *testing.T) {
	// The webhook tests' policies include a MutatingAdmissionPolicy and Warn and Deny VAPs.
	b, err := Load(context.Background(), Options{Paths: []string{"../../webhook/testdata/policies.yaml"}})
	if err != nil {
		t.Fatal(err)
	}
	docs, err := manifest.Decode("d.yaml", []byte(benchDeployment)).Result()
	if err != nil {
		t.Fatal(err)
	}
	req, err := RequestFor(b.Resources(), docs[0].Object, policies.Create, "")
	if err != nil {
		t.Fatal(err)
	}
	want := b.Validate(context.Background(), req)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				got := b.Validate(context.Background(), req)
				if len(got.Findings) != len(want.Findings) || got.Denied() != want.Denied() {
					t.Errorf("concurrent Validate: %d findings, want %d", len(got.Findings), len(want.Findings))
					return
				}
				if m := b.Mutate(context.Background(), req); len(m.Errors) > 0 || !m.Changed() {
					t.Errorf("concurrent Mutate: changed %v, errors %v", m.Changed(), m.Errors)
					return
				}
			}
		}()
	}
	wg.Wait()
}
