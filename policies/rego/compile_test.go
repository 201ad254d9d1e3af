package rego

import (
	"context"
	"fmt"
	"reflect"
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

// TestLazyInputEvaluatesAsEager holds the lazy input (Input) to what the input converted whole
// gives, for reads that touch part of it, all of it, or compare it whole.
func TestLazyInputEvaluatesAsEager(t *testing.T) {
	object := func() map[string]any {
		return map[string]any{
			"apiVersion": "v1", "kind": "Pod",
			"metadata": map[string]any{"name": "web", "labels": map[string]any{"app": "web", "tier": "front"}},
			"spec": map[string]any{
				"replicas":   int64(3),
				"ratio":      0.5,
				"paused":     false,
				"nothing":    nil,
				"containers": []any{map[string]any{"name": "a", "image": "nginx:latest"}, map[string]any{"name": "b", "image": "b@sha256:x"}},
			},
		}
	}
	tests := []struct{ name, rule string }{
		{"a field", `r := input.metadata.name`},
		{"a missing field", `r := object.get(input, ["metadata", "annotations", "x"], "none")`},
		{"a negated missing field", `r if not input.metadata.labels.owner`},
		{"iteration", `r contains c.image if { c := input.spec.containers[_] }`},
		{"keys", `r := object.keys(input.metadata.labels)`},
		{"iteration over an object", `r contains k if { input.spec[k] }`},
		{"a count", `r := count(input)`},
		{"numbers", `r := input.spec.replicas * input.spec.ratio`},
		{"null and false", `r := [input.spec.nothing, input.spec.paused]`},
		{"whole equality", `r := input == {"apiVersion": "v1", "kind": "Pod"}`},
		{"a subtree's equality", `r := input.metadata.labels == {"app": "web", "tier": "front"}`},
		{"walk", `r contains [p, v] if { walk(input.metadata, [p, v]); is_string(v) }`},
		{"json.marshal", `r := json.marshal(input)`},
		{"object.union", `r := object.union(input.metadata, {"namespace": "x"})`},
		{"object.remove", `r := object.remove(input, ["spec"])`},
		{"as a set member", `r := {input.metadata.labels} | {{"app": "web", "tier": "front"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Compile([]Module{{Filename: "lazy.rego", Source: "package lazy\n\n" + tt.rule + "\n", Version: V1}}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			q, err := c.Prepare(context.Background(), "data.lazy.r", nil)
			if err != nil {
				t.Fatal(err)
			}
			eager, err := ast.InterfaceToValue(object())
			if err != nil {
				t.Fatal(err)
			}
			want, err := q.Eval(context.Background(), eager)
			if err != nil {
				t.Fatal(err)
			}
			lazy, err := Input(object())
			if err != nil {
				t.Fatal(err)
			}
			got, err := q.Eval(context.Background(), lazy)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("lazy input: %v, converted whole: %v", got, want)
			}
		})
	}
}

func TestLazyInputOfATypeJSONHasNotIsAnError(t *testing.T) {
	c, err := Compile([]Module{{Filename: "lazy.rego", Source: "package lazy\n\nr := input.x\n", Version: V1}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	q, err := c.Prepare(context.Background(), "data.lazy.r", nil)
	if err != nil {
		t.Fatal(err)
	}
	input, _ := Input(map[string]any{"x": make(chan int)})
	if _, err := q.Eval(context.Background(), input); err == nil || !strings.Contains(err.Error(), "evaluation of data.lazy.r failed") {
		t.Errorf("got %v, want an evaluation error", err)
	}
}
