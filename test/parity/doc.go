// Package parity holds the differential tests of verdict check --as-written against the real
// gator test (Gatekeeper) and conftest test, on third-party material (testdata/, with its licenses
// and sources). They run only when given the tools: make parity GATOR=path CONFTEST=path.
package parity
