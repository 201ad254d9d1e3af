#!/bin/sh
# Runs the differential test against pod-security-admission (../../psa_diff_test.go, build tag
# psadiff) without touching the module's go.mod: a copy of go.mod and go.sum in a temporary folder
# also requires k8s.io/pod-security-admission at the version of k8s.io/api, and the test is built
# with -modfile. Extra arguments go to `go test` (-v, -count=1 ...).
set -eu
root=$(cd "$(dirname "$0")/../../../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$root"
cp go.mod go.sum "$tmp/"
version=$(go list -m -f '{{.Version}}' k8s.io/api)
GOFLAGS=-mod=mod go get -modfile="$tmp/go.mod" "k8s.io/pod-security-admission@$version"
go test -modfile="$tmp/go.mod" -tags psadiff -run 'TestPodSecurityDifferential' "$@" ./policies/library/
