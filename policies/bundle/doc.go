// Package bundle loads a policy set from files, folders or the embedded default library and compiles
// it, every format at once, into an immutable Bundle that judges and mutates requests. A Bundle is
// what `verdict check` and `verdict mutate` run and what the webhook swaps atomically on reload.
package bundle
