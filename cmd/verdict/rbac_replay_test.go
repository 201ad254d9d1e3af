package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

func TestRBACReplayGolden(t *testing.T) {
	rbac, log := rbacData+"rbac.yaml", rbacData+"audit.log"
	tests := []struct {
		golden string
		code   int
		args   []string
	}{
		{"replay.txt", 1, []string{"-f", rbac, "--audit-log", log}},
		{"replay-all.txt", 1, []string{"-f", rbac, "--audit-log", log, "--all"}},
		{"replay.json", 1, []string{"-f", rbac, "--audit-log", log, "-o", "json"}},
		{"replay-all-defaults.json", 1, []string{"-f", rbac, "--audit-log", log, "--all", "--with-defaults", "-o", "json"}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			code, out, errOut := runCLI(t, "", append([]string{"rbac", "replay"}, tt.args...)...)
			if code != tt.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tt.code, errOut)
			}
			if strings.HasSuffix(tt.golden, ".json") && !json.Valid([]byte(out)) {
				t.Errorf("output is not JSON: %q", out)
			}
			for _, note := range []string{
				"note: 1 events skipped: no authorization decision recorded (authorization.k8s.io/decision)",
				"note: 2 events skipped: not the final stage of a request (only ResponseComplete and Panic are decided)",
				"note: 1 events skipped: the request was not authenticated",
			} {
				if !strings.Contains(errOut, note) {
					t.Errorf("stderr %q does not contain %q", errOut, note)
				}
			}
			goldenRBAC(t, tt.golden, out)
		})
	}
}

func TestRBACReplay(t *testing.T) {
	rbac, log := rbacData+"rbac.yaml", rbacData+"audit.log"
	data, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(data), "\n")
	tests := []struct {
		name       string
		stdin      string
		args       []string
		code       int
		outContain string
		errContain string
	}{
		{"stdin", string(data), []string{"-f", rbac, "--audit-log", "-"}, 1, "12 events, 4 skipped: 3 now refused, 1 newly allowed", ""},
		{"nothing refused", strings.Join(append(lines[:3:3], lines[9]), ""), []string{"-f", rbac, "--audit-log", "-"}, 0, "4 events, 2 skipped: 0 now refused, 0 newly allowed", ""},
		{"empty log", "", []string{"-f", rbac, "--audit-log", "-", "-o", "json"}, 0, `{"requests":[],"summary":{"events":0,"skipped":0,"refused":0,"newlyAllowed":0}}`, ""},
		{"not JSON", lines[1] + "{not json\n", []string{"-f", rbac, "--audit-log", "-"}, 2, "", "error: -:2: not an audit event: "},
		{"not an event", `{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[]}` + "\n", []string{"-f", rbac, "--audit-log", "-"}, 2, "",
			`error: -:1: apiVersion "audit.k8s.io/v1", kind "EventList": expected an audit.k8s.io/v1 Event, one JSON object a line`},
		{"no --audit-log", "", []string{"-f", rbac}, 2, "", "--audit-log FILE|- is required"},
		{"both on stdin", "", []string{"-f", "-", "--audit-log", "-"}, 2, "", "cannot both read stdin"},
		{"missing log", "", []string{"-f", rbac, "--audit-log", rbacData + "nope.log"}, 2, "", "no such file"},
		{"bad output", "", []string{"-f", rbac, "--audit-log", log, "-o", "yaml"}, 2, "", `unknown output format "yaml"`},
		{"no RBAC", "", []string{"--audit-log", log}, 2, "", "no RBAC manifests"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, tt.stdin, append([]string{"rbac", "replay"}, tt.args...)...)
			if code != tt.code || !strings.Contains(out, tt.outContain) || !strings.Contains(errOut, tt.errContain) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d, stdout with %q, stderr with %q", code, out, errOut, tt.code, tt.outContain, tt.errContain)
			}
		})
	}
}
