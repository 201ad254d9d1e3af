package rego

import (
	"context"
	"time"
)

type nowKey struct{}

// WithNow returns a context under which evaluations see now as the current time (time.now_ns, and
// the expiry checks of io.jwt.decode_verify), as OPA's rego.EvalTime sets it. verdict verify --now
// uses it so that a suite of a policy that reads the clock passes or fails the same way every day.
// The clock travels with the context, not with the compiled policies, because one compiled set
// serves every evaluation.
func WithNow(ctx context.Context, now time.Time) context.Context {
	return context.WithValue(ctx, nowKey{}, now)
}

// nowOf is the time that WithNow put in ctx, if any.
func nowOf(ctx context.Context) (time.Time, bool) {
	now, ok := ctx.Value(nowKey{}).(time.Time)
	return now, ok
}
