package webhook

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/go-logr/logr"

	"github.com/verdict-dev/verdict/policies/bundle"
)

// PolicySet holds the policy set in force and loads it again when its files change. A reload that
// fails keeps the set in force and logs why.
type PolicySet struct {
	opts    bundle.Options
	log     logr.Logger
	metrics *Metrics

	current    atomic.Pointer[bundle.Bundle]
	generation atomic.Int64
	lastErr    atomic.Pointer[string]
	mu         sync.Mutex // serialises loads
	watching   chan struct{}

	// Guarded by mu: the extra policies and objects, and the extra policies left out of the set in
	// force.
	extra   *Extra
	skipped []string
}

// NewPolicySet returns a set that loads with opts. Call Load before serving.
func NewPolicySet(opts bundle.Options, log logr.Logger, metrics *Metrics) *PolicySet {
	return &PolicySet{opts: opts, log: log, metrics: metrics, watching: make(chan struct{})}
}

// Watching is closed once Watch watches the policy files (or has found there is nothing to watch).
func (s *PolicySet) Watching() <-chan struct{} { return s.watching }

// Current returns the set in force, or nil before the first successful load.
func (s *PolicySet) Current() *bundle.Bundle { return s.current.Load() }

// Generation counts the successful loads.
func (s *PolicySet) Generation() int64 { return s.generation.Load() }

// Ready fails until a set is in force.
func (s *PolicySet) Ready() error {
	if s.current.Load() != nil {
		return nil
	}
	if msg := s.lastErr.Load(); msg != nil {
		return errors.New("no policy set loaded: " + *msg)
	}
	return errors.New("no policy set loaded yet")
}

// Load compiles the policies and, if they compile, puts them in force.
func (s *PolicySet) Load(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.load(ctx)
}

// LoadExtra compiles the policies with extra (which replaces the extra of earlier calls, and is
// kept for the reloads of the files) and, if they compile, puts them in force. Extra policies that
// do not compile are left out and logged; Skipped lists them.
func (s *PolicySet) LoadExtra(ctx context.Context, extra *Extra) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.extra = extra
	return s.load(ctx)
}

// Skipped lists the extra policies that the set in force leaves out because they do not compile,
// each with its error.
func (s *PolicySet) Skipped() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.skipped)
}

func (s *PolicySet) load(ctx context.Context) error {
	start := time.Now()
	b, skipped, err := s.compile(ctx, s.extra)
	if err != nil {
		msg := err.Error()
		s.lastErr.Store(&msg)
		if s.metrics != nil {
			s.metrics.Reloads.WithLabelValues("failure").Inc()
		}
		if s.current.Load() != nil {
			s.log.Error(err, "policy reload failed; keeping the policy set in force", "generation", s.generation.Load())
		}
		return err
	}
	for _, w := range b.Warnings {
		s.log.Info("policy warning", "warning", w)
	}
	s.current.Store(b)
	s.skipped = skipped
	gen := s.generation.Add(1)
	s.lastErr.Store(nil)
	if s.metrics != nil {
		s.metrics.Reloads.WithLabelValues("success").Inc()
		s.metrics.Generation.Set(float64(gen))
		s.metrics.Policies.Set(float64(b.Policies))
	}
	s.log.Info("policy set loaded", "generation", gen, "policies", b.Policies, "duration", time.Since(start).String())
	return nil
}

// reloadDelay gathers the events of one change (an editor's write, a ConfigMap volume's symlink
// swap) into one reload.
const reloadDelay = 250 * time.Millisecond

// Watch reloads the set whenever a file under its paths changes, until ctx is done. It watches the
// folders that hold the paths, so that files replaced by rename (as Kubernetes updates a mounted
// ConfigMap) are seen.
func (s *PolicySet) Watch(ctx context.Context) error {
	var once sync.Once
	watching := func() { once.Do(func() { close(s.watching) }) }
	defer watching()
	if len(s.opts.Paths) == 0 {
		watching()
		<-ctx.Done()
		return nil // the embedded library does not change
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return err
	}
	defer w.Close()
	watched := map[string]bool{}
	addTree := func(root string) {
		_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() && !watched[p] {
				if w.Add(p) == nil {
					watched[p] = true
				}
			}
			return nil
		})
	}
	for _, p := range s.opts.Paths {
		info, err := os.Stat(p)
		switch {
		case err != nil:
			continue
		case info.IsDir():
			addTree(p)
		default:
			if dir := filepath.Dir(p); !watched[dir] && w.Add(dir) == nil {
				watched[dir] = true
			}
		}
	}
	watching()
	var timer *time.Timer
	fire := make(chan struct{}, 1)
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			if ev.Op&fsnotify.Create != 0 {
				if info, err := os.Stat(ev.Name); err == nil && info.IsDir() {
					addTree(ev.Name)
				}
			}
			if timer == nil {
				timer = time.AfterFunc(reloadDelay, func() { fire <- struct{}{} })
			} else {
				timer.Reset(reloadDelay)
			}
		case err, ok := <-w.Errors:
			if ok {
				s.log.Error(err, "watching policy files")
			}
		case <-fire:
			_ = s.Load(ctx)
		}
	}
}
