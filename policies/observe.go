package policies

import (
	"context"
	"time"
)

// Observer is told how long each policy took to judge a request and what it decided: "denied",
// "warned" or "allowed" (audit findings and no finding alike). The webhook's latency histogram by
// policy is one.
type Observer func(policy string, engine Engine, decision string, elapsed time.Duration)

type observerKey struct{}

// WithObserver returns a context whose evaluations report to o.
func WithObserver(ctx context.Context, o Observer) context.Context {
	return context.WithValue(ctx, observerKey{}, o)
}

// Observe starts timing one policy's evaluation when ctx carries an Observer; the returned function
// reports it, given the findings the policy added. Without an Observer it costs nothing.
func Observe(ctx context.Context, policy string, engine Engine) func(added []Finding) {
	o, _ := ctx.Value(observerKey{}).(Observer)
	if o == nil {
		return func([]Finding) {}
	}
	start := time.Now()
	return func(added []Finding) { o(policy, engine, Decision(added), time.Since(start)) }
}

// Decision sums up findings as "denied", "warned" or "allowed".
func Decision(fs []Finding) string {
	decision := "allowed"
	for _, f := range fs {
		switch f.Action {
		case Deny:
			return "denied"
		case Warn:
			decision = "warned"
		}
	}
	return decision
}
