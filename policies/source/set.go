package source

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"

	"github.com/verdict-dev/verdict/policies/bundle"
)

// PolicySet holds the policy set in force and loads it again when its files change. A reload that
// fails keeps the set in force and logs why. So does a reload that compiles but would weaken the
// set in force: one with no policy at all (unless allowEmpty), or one that has lost a file or a Rego
// package of the set in force. A policy file half-way through an update (deleted before its new
// copy is written, as `rm; cp` does, or emptied before it is written again) reads that way, and
// putting it in force would let through what the set denied; a policy taken away on purpose needs
// a restart.
type PolicySet struct {
	opts       bundle.Options
	allowEmpty bool
	log        logr.Logger
	observer   LoadObserver

	current    atomic.Pointer[bundle.Bundle]
	generation atomic.Int64
	lastErr    atomic.Pointer[string]
	mu         sync.Mutex // serialises loads
	watching   chan struct{}
	rescan     time.Duration // rescanInterval when zero; tests set less

	// Guarded by mu: the extra policies and objects, the extra policies left out of the set in
	// force, and what the files held when the set in force was read.
	extra   *Extra
	skipped []string
	files   *inventory
}

// LoadObserver is told of every load of a PolicySet: the webhook's metrics count them.
type LoadObserver interface {
	// Loaded is told of a load that put a set in force: its generation and its number of policies.
	Loaded(generation int64, policies int)
	// LoadFailed is told of a load that failed, with its reason (one of the Fail constants).
	LoadFailed(reason string)
}

// NewPolicySet returns a set that loads with opts and tells obs (which may be nil) of every load.
// Call Load before serving.
func NewPolicySet(opts bundle.Options, log logr.Logger, obs LoadObserver) *PolicySet {
	// The set judges emptiness itself, after the cluster's policies are added and against the set
	// in force (allowEmpty), so the bundle must not refuse an empty folder first.
	opts.AllowEmpty = true
	return &PolicySet{opts: opts, log: log, observer: obs, watching: make(chan struct{})}
}

// AllowEmpty lets the set load, and reload, with no policy at all; without it, a set of no policy
// fails to load. Call it before the first Load.
func (s *PolicySet) AllowEmpty() { s.allowEmpty = true }

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

// ReloadError fails while the last reload failed and an earlier set is in force: the set in
// force is not what the files say.
func (s *PolicySet) ReloadError() error {
	msg := s.lastErr.Load()
	if msg == nil || s.current.Load() == nil {
		return nil
	}
	return fmt.Errorf("%s (serving generation %d)", *msg, s.generation.Load())
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

// The reasons of failed loads, as LoadObserver.LoadFailed is told them.
const (
	FailCompile  = "compile"  // the policies do not compile, or cannot be read
	FailEmpty    = "empty"    // no policy at all
	FailLost     = "lost"     // a file or Rego package of the set in force is gone
	FailChanging = "changing" // the files kept changing while they were read
)

// loadError is a failed load and its reason.
type loadError struct {
	reason string
	err    error
}

func (e *loadError) Error() string { return e.err.Error() }
func (e *loadError) Unwrap() error { return e.err }

// readAttempts bounds the reads of a load whose files change while they are read.
const readAttempts = 3

func (s *PolicySet) load(ctx context.Context) error {
	start := time.Now()
	b, skipped, files, err := s.read(ctx)
	if err == nil {
		err = s.weakens(b, files)
	}
	if err != nil {
		msg := err.Error()
		s.lastErr.Store(&msg)
		reason := FailCompile
		if le, ok := errors.AsType[*loadError](err); ok {
			reason = le.reason
		}
		if s.observer != nil {
			s.observer.LoadFailed(reason)
		}
		if s.current.Load() != nil {
			s.log.Error(err, "policy reload failed; keeping the policy set in force", "reason", reason, "generation", s.generation.Load())
		}
		return err
	}
	for _, w := range b.Warnings {
		s.log.Info("policy warning", "warning", w)
	}
	s.current.Store(b)
	s.skipped = skipped
	s.files = files
	gen := s.generation.Add(1)
	s.lastErr.Store(nil)
	if s.observer != nil {
		s.observer.Loaded(gen, b.Policies)
	}
	s.log.Info("policy set loaded", "generation", gen, "policies", b.Policies, "duration", time.Since(start).String())
	return nil
}

// read compiles the policies, between two inventories of their files: if the files changed while
// they were compiled, what was compiled is not known, and it reads them again.
func (s *PolicySet) read(ctx context.Context) (*bundle.Bundle, []string, *inventory, error) {
	if len(s.opts.Paths) == 0 {
		b, skipped, err := Compile(ctx, s.opts, s.extra, s.log)
		return b, skipped, &inventory{}, err
	}
	for range readAttempts {
		before, err := takeInventory(s.opts.Paths)
		if err != nil {
			return nil, nil, nil, err
		}
		opts := s.opts
		opts.Paths = before.resolved
		b, skipped, err := Compile(ctx, opts, s.extra, s.log)
		after, aerr := takeInventory(s.opts.Paths)
		if aerr == nil && before.same(after) {
			return b, skipped, before, err
		}
	}
	return nil, nil, nil, &loadError{reason: FailChanging, err: fmt.Errorf("the policy files changed each of the %d times they were read", readAttempts)}
}

// weakens refuses a set that would weaken the set in force (see PolicySet).
func (s *PolicySet) weakens(b *bundle.Bundle, files *inventory) error {
	if b.Policies == 0 && !s.allowEmpty {
		return &loadError{reason: FailEmpty, err: fmt.Errorf("%s hold no policy (an empty file?); serving none needs --allow-empty", describePaths(s.opts.Paths))}
	}
	if s.files == nil || s.current.Load() == nil {
		return nil
	}
	if lost := files.lost(s.files); lost != "" {
		return &loadError{reason: FailLost, err: errors.New("a policy of the set in force is missing: " + lost + "; restart verdict to take a policy away")}
	}
	return nil
}

func describePaths(paths []string) string {
	if len(paths) == 0 {
		return "the embedded policies"
	}
	return strings.Join(paths, ", ")
}
