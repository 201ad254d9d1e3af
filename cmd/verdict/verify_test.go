package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestVerifyExitCodes(t *testing.T) {
	tests := []cliCase{
		{name: "a failing case exits 1", args: []string{"verify", "testdata/verify/suite.yaml"}, code: 1, stdout: "2 passed, 1 failed, 1 skipped"},
		{name: "a folder is searched for suite.yaml", args: []string{"verify", "testdata/verify"}, code: 2, stdout: "3 passed, 1 failed, 1 skipped, 1 errors"},
		{name: "a broken suite exits 2", args: []string{"verify", "testdata/verify/broken"}, code: 2,
			stdout: "ERROR testdata/verify/broken/suite.yaml: no-latest/missing-object: object: testdata/verify/broken/nothing.yaml: no such file or directory"},
		{name: "DIR/... as gator takes it", args: []string{"verify", "testdata/verify/..."}, code: 2, stdout: "3 passed, 1 failed, 1 skipped, 1 errors"},
		{name: "no suites", args: []string{"verify"}, code: 2, stderr: "no suites given"},
		{name: "missing path", args: []string{"verify", "testdata/verify/nothing"}, code: 2, stderr: "no such file or directory"},
		{name: "folder without suites", args: []string{"verify", "testdata/check"}, code: 2, stderr: "no suites found"},
		{name: "bad output format", args: []string{"verify", "-o", "sarif", "testdata/verify"}, code: 2, stderr: `--output "sarif": must be one of text, json, junit`},
	}
	runCLICases(t, tests)
}

func TestVerifyOutputs(t *testing.T) {
	for _, tc := range []struct {
		golden string
		args   []string
	}{
		{golden: "out.txt", args: []string{"verify", "testdata/verify/suite.yaml"}},
		{golden: "out-verbose.txt", args: []string{"verify", "-v", "testdata/verify/suite.yaml"}},
		{golden: "out.json", args: []string{"verify", "-o", "json", "testdata/verify/suite.yaml"}},
		{golden: "out.xml", args: []string{"verify", "-o", "junit", "testdata/verify/suite.yaml"}},
		{golden: "broken.txt", args: []string{"verify", "testdata/verify/broken"}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			_, stdout, _ := runCLI(t, "", tc.args...)
			golden(t, filepath.Join("testdata", "verify", tc.golden), stdout)
		})
	}
}

// TestVerifyGatekeeperLibrary runs the Gatekeeper library's own suites: every case passes, under both
// engines where a template has a Rego and a K8sNativeValidation block.
func TestVerifyGatekeeperLibrary(t *testing.T) {
	const lib = "../../test/testdata/gatekeeper-library"
	code, stdout, stderr := runCLI(t, "", "verify", "-o", "json", lib)
	if code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	var report struct {
		Results []struct {
			Suite, Test, Case, Status, Message string
			Engines                            []struct{ Engine string }
		}
		Summary struct{ Passed, Failed, Skipped, Errors int }
	}
	if err := json.Unmarshal([]byte(stdout), &report); err != nil {
		t.Fatal(err)
	}
	if report.Summary.Passed == 0 || report.Summary.Failed+report.Summary.Errors+report.Summary.Skipped != 0 {
		t.Errorf("summary = %+v", report.Summary)
	}
	suites := map[string]bool{}
	for _, r := range report.Results {
		suites[r.Suite] = true
		if r.Status != "pass" {
			t.Errorf("%s: %s/%s: %s %s", r.Suite, r.Test, r.Case, r.Status, r.Message)
		}
		tmpl, err := os.ReadFile(filepath.Join(filepath.Dir(r.Suite), "template.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		want := 1
		if strings.Contains(string(tmpl), "engine: K8sNativeValidation") && strings.Contains(string(tmpl), "engine: Rego") {
			want = 2
		}
		if len(r.Engines) != want {
			t.Errorf("%s: %s/%s: ran %d engines, want %d", r.Suite, r.Test, r.Case, len(r.Engines), want)
		}
	}
	entries, err := filepath.Glob(lib + "/*/*/suite.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(suites) != len(entries) || len(entries) == 0 {
		t.Errorf("ran %d suites of %d", len(suites), len(entries))
	}
}

// TestVerifyNow pins the clock of a suite whose policy reads time.now_ns: the same case passes
// after the expiry date it tests and fails before it, whatever day the test runs.
func TestVerifyNow(t *testing.T) {
	const suite = "testdata/verify-now/suite.yaml"
	tests := []struct {
		name   string
		now    string
		code   int
		stdout string
		stderr string
	}{
		{name: "after the expiry", now: "2031-01-01T00:00:00Z", code: 0, stdout: "1 passed, 0 failed"},
		{name: "before the expiry", now: "2029-12-31T23:59:59+01:00", code: 1, stdout: "0 passed, 1 failed"},
		{name: "not RFC 3339", now: "2031-01-01", code: 2, stderr: `--now "2031-01-01": want an RFC 3339 time`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, "", "verify", "--now", tc.now, suite)
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, stdout, stderr)
			}
			if !strings.Contains(stdout, tc.stdout) || !strings.Contains(stderr, tc.stderr) {
				t.Errorf("stdout %q, stderr %q; want them to contain %q and %q", stdout, stderr, tc.stdout, tc.stderr)
			}
		})
	}
}
