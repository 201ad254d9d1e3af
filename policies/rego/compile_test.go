package rego

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
)

func TestParseVersions(t *testing.T) {
	v0 := "package p\ndeny[msg] { msg := \"x\" }\n"
	v1 := "package p\ndeny contains msg if { msg := \"x\" }\n"
	tests := []struct {
		name    string
		m       Module
		wantErr bool
		version ast.RegoVersion
	}{
		{name: "v1 as v1", m: Module{Filename: "a.rego", Source: v1}, version: ast.RegoV1},
		{name: "v0 falls back", m: Module{Filename: "a.rego", Source: v0}, version: ast.RegoV0},
		{name: "v0 forced", m: Module{Filename: "a.rego", Source: v0, Version: V0}, version: ast.RegoV0},
		{name: "v0 refused as v1", m: Module{Filename: "a.rego", Source: v0, Version: V1}, wantErr: true},
		{name: "neither", m: Module{Filename: "a.rego", Source: "package p\ndeny contains {"}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mod, err := Parse(tc.m)
			if tc.wantErr {
				if err == nil {
					t.Fatal("parsed, want an error")
				}
				if !strings.Contains(err.Error(), "a.rego:") {
					t.Errorf("error %q does not name the file", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			//lint:ignore SA1019 a parsed module has one version, which is what the case asserts
			if got := mod.RegoVersion(); got != tc.version {
				t.Errorf("version %v, want %v", got, tc.version)
			}
		})
	}
}

func TestEvalStopsAtTheDeadline(t *testing.T) {
	c, err := Compile([]Module{{Filename: "slow.rego", Source: `package slow
deny contains "never" if {
	some i in numbers.range(1, 100000)
	some j in numbers.range(1, 100000)
	i == 0 - j
}
`}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	q, err := c.Prepare(context.Background(), "data.slow.deny", nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = q.Eval(ctx, ast.NewObject())
	if err == nil || !strings.Contains(err.Error(), "evaluation of data.slow.deny stopped") {
		t.Fatalf("error = %v, want the evaluation stopped", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("stopped after %v", d)
	}
}

func TestNondeterministicBuiltinsWarn(t *testing.T) {
	c, err := Compile([]Module{{Filename: "nd.rego", Source: `package nd

deny contains "late" if time.now_ns() > 0

warn contains msg if {
	n := rand.intn("x", 10)
	msg := sprintf("%d %s", [n, uuid.rfc4122("y")])
}

allow if input.ok
`}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"nd.rego:3:25: rule deny calls time.now_ns, which is not deterministic",
		"nd.rego:6:7: rule warn calls rand.intn, which is not deterministic",
		"nd.rego:7:30: rule warn calls uuid.rfc4122, which is not deterministic",
	}
	got := c.Warnings()
	if len(got) != len(want) {
		t.Fatalf("warnings:\n%s\nwant %d", strings.Join(got, "\n"), len(want))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("warning %d = %q, want it to start with %q", i, got[i], want[i])
		}
	}
	q, err := c.Prepare(context.Background(), "data.nd.deny", nil)
	if err != nil {
		t.Fatal(err)
	}
	if rs, err := q.Eval(context.Background(), ast.NewObject()); err != nil || len(rs) != 1 {
		t.Errorf("a policy with a warning still evaluates: %v, %v", rs, err)
	}
}

func TestWithNowPinsTheClock(t *testing.T) {
	c, err := Compile([]Module{{Filename: "clock.rego", Source: "package clock\n\nnow := time.now_ns()\n"}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	q, err := c.Prepare(context.Background(), "data.clock.now", nil)
	if err != nil {
		t.Fatal(err)
	}
	pinned := time.Date(2030, 1, 2, 3, 4, 5, 6, time.UTC)
	for range 2 {
		rs, err := q.Eval(WithNow(context.Background(), pinned), ast.NewObject())
		if err != nil {
			t.Fatal(err)
		}
		if len(rs) != 1 || fmt.Sprint(rs[0]) != fmt.Sprint(pinned.UnixNano()) {
			t.Errorf("time.now_ns() = %v, want %d", rs, pinned.UnixNano())
		}
	}
	rs, err := q.Eval(context.Background(), ast.NewObject())
	if err != nil || len(rs) != 1 || fmt.Sprint(rs[0]) == fmt.Sprint(pinned.UnixNano()) {
		t.Errorf("without WithNow: %v, %v; want the real clock", rs, err)
	}
}
