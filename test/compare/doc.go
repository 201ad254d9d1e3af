// Package compare times verdict beside gator, conftest and the Kyverno CLI on the same inputs and
// the same rule (`make compare`), and checks that every tool found the same violations, so that a
// table in docs/performance.md never compares a tool with one that judged nothing.
package compare
