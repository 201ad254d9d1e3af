package compare

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/verdict-dev/verdict/internal/fixtures"
)

var (
	run       = flag.Bool("compare", false, "run the comparison (make compare)")
	verdict   = flag.String("verdict", "../../bin/verdict", "the verdict binary")
	gator     = flag.String("gator", "", "a gator binary (optional)")
	conftest  = flag.String("conftest", "", "a conftest binary (optional)")
	kyverno   = flag.String("kyverno", "", "a kubectl-kyverno binary (optional)")
	kubeauthz = flag.String("kubeauthz", "", "the kubeauthz binary (go build ./test/compare/kubeauthz), the RBAC baseline")
	runs      = flag.Int("runs", 2, "runs of each command, alternating between the tools")
	pods      = flag.Int("pods", 10000, "Pods in the input file")
)

// measure is one run of a command: wall and CPU time, peak resident memory, and what it found.
type measure struct {
	wall, cpu time.Duration
	rssMB     int64
	found     int
}

// tool is one command of a row and how to count the violations it reports.
type tool struct {
	name  string
	bin   *string
	args  []string
	count func(stdout []byte) (int, error)
}

type row struct {
	job     string
	verdict tool
	peer    tool // bin nil: verdict alone
	// expected is what every tool must find; want checks it (nil: equal to expected).
	expected int
	want     func(found, expected int) bool
	target   string
}

func TestCompare(t *testing.T) {
	if !*run {
		t.Skip("only with -compare (make compare)")
	}
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	rows := append(checkRows(write), rbacRows(t, write)...)
	var table strings.Builder
	fmt.Fprintf(&table, "| job | verdict | peer | ratio (wall) | target |\n|---|---|---|---|---|\n")
	for _, r := range rows {
		var mine, theirs []measure
		for i := 0; i < *runs; i++ {
			mine = append(mine, runTool(t, r.verdict, r.expected, r.want))
			if r.peer.bin != nil && *r.peer.bin != "" {
				theirs = append(theirs, runTool(t, r.peer, r.expected, r.want))
			}
		}
		peer, ratio := "—", "—"
		switch {
		case len(theirs) > 0:
			peer = r.peer.name + ": " + summary(theirs)
			ratio = fmt.Sprintf("%.1f×", best(theirs).wall.Seconds()/best(mine).wall.Seconds())
		case r.peer.bin != nil:
			peer = r.peer.name + ": not measured (no binary given)"
		}
		fmt.Fprintf(&table, "| %s | %s | %s | %s | %s |\n", r.job, summary(mine), peer, ratio, r.target)
	}
	t.Logf("each command %d times, alternating; best wall time, its CPU time and peak RSS; the tools of a row found the same\n\n%s", *runs, table.String())
}

// checkRows are the policy checks: one required-label rule in each format, against the tool of the
// format, then the memory of larger inputs.
func checkRows(write func(string, []byte) string) []row {
	input := write("pods.yaml", fixtures.Pods(*pods))
	large := write("pods-100k.yaml", fixtures.Pods(10**pods))
	sarifInput := write("pods-20k.yaml", fixtures.Pods(2**pods))
	policy := func(format string) string { return filepath.Join("requiredlabel", format) }
	want := fixtures.PodsWithoutOwner(*pods)
	check := func(format, file string) tool {
		return tool{"verdict check", verdict, []string{"check", "-o", "json", "-p", policy(format), file}, verdictDenied}
	}
	return []row{
		{job: fmt.Sprintf("check of %d Pods, one required-label rule as a Gatekeeper template", *pods), verdict: check("gatekeeper", input),
			peer:     tool{"gator test", gator, []string{"test", "-o", "json", "-f", policy("gatekeeper"), "-f", input}, jsonArrayLen},
			expected: want, target: "≥ 10× (floor 5×); ≤ 250 MB"},
		{job: "the same rule as plain Rego", verdict: check("rego", input),
			peer:     tool{"conftest test", conftest, []string{"test", "-o", "json", "-p", policy("rego"), input}, conftestFailures},
			expected: want, target: "≥ 10×"},
		{job: "the same rule as a ValidatingAdmissionPolicy", verdict: check("vap", input),
			peer:     tool{"kyverno apply", kyverno, []string{"apply", filepath.Join(policy("vap"), "vap.yaml"), "--resource", input}, kyvernoFailures},
			expected: want, target: "keep"},
		{job: fmt.Sprintf("memory: check of %d Pods, the Gatekeeper template", 10**pods), verdict: check("gatekeeper", large),
			expected: fixtures.PodsWithoutOwner(10 * *pods), target: "under 1 GB"},
		{job: fmt.Sprintf("memory: %d Pods with -o sarif", 2**pods),
			verdict:  tool{"verdict check", verdict, []string{"check", "-o", "sarif", "-p", policy("gatekeeper"), sarifInput}, sarifResults},
			expected: fixtures.PodsWithoutOwner(2 * *pods), target: "bounded by the report"},
	}
}

// rbacRows are the RBAC commands on fixtures.RBACWorld, one process each; rbac check's 4,000
// questions are answered beside kube's own authorizer over objects read by sigs.k8s.io/yaml
// (test/compare/kubeauthz), and both must allow the same number of them.
func rbacRows(t *testing.T, write func(string, []byte) string) []row {
	world := write("world.yaml", fixtures.RBACWorld())
	// Every check expects a denial: rbac check then reports each question it allows as a failure,
	// and the allowed ones are counted on both sides.
	checks := write("checks.yaml", fixtures.WorldChecks(fixtures.WorldQuestions(4000), func(int) bool { return false }))
	baseline := tool{"kube's RBAC authorizer, sigs.k8s.io/yaml loader", kubeauthz, []string{"-f", world, "-checks", checks}, kubeauthzAllowed}
	allowed, agree := 0, anyCount
	if *kubeauthz != "" {
		allowed, agree = runTool(t, baseline, 0, anyCount).found, nil
	}
	objects := fmt.Sprintf("%d RBAC objects (%d MB of YAML)", fixtures.RBACWorldObjects, len(fixtures.RBACWorld())>>20)
	return []row{
		{job: "rbac check of 4,000 questions on " + objects,
			verdict: tool{"verdict rbac check", verdict, []string{"rbac", "check", "-o", "json", "-f", world, "--checks", checks}, rbacAllowed},
			peer:    baseline, expected: allowed, want: agree, target: "< 0.75 s"},
		{job: "rbac can-i get pods -n ns-1 --as user-1, the same objects",
			verdict: tool{"verdict rbac can-i", verdict, []string{"rbac", "can-i", "get", "pods", "-n", "ns-1", "--as", "user-1", "-f", world}, yesOrNo},
			want:    anyCount, target: "< 0.5 s"},
		{job: "rbac who-can get pods -n ns-1, the same objects",
			verdict: tool{"verdict rbac who-can", verdict, []string{"rbac", "who-can", "get", "pods", "-n", "ns-1", "-f", world}, lines},
			want:    func(found, _ int) bool { return found > 1 }, target: "< 0.5 s"},
	}
}

// anyCount accepts whatever a command found (the baseline's own count, can-i's answer).
func anyCount(int, int) bool { return true }

func runTool(t *testing.T, tl tool, expected int, want func(found, expected int) bool) measure {
	t.Helper()
	cmd := exec.Command(*tl.bin, tl.args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if cmd.ProcessState == nil {
		t.Fatalf("%s %v: %v", tl.name, tl.args, err)
	}
	found, cerr := tl.count(stdout.Bytes())
	if want == nil {
		want = func(found, expected int) bool { return found == expected }
	}
	if cerr != nil || !want(found, expected) {
		t.Fatalf("%s %v found %d violations (%v), want %d; exit %v\n%s", tl.name, tl.args, found, cerr, expected, err, tail(stderr.String()))
	}
	m := measure{wall: wall, cpu: cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(), found: found}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		m.rssMB = ru.Maxrss >> 10 // kilobytes on Linux
	}
	return m
}

func best(ms []measure) measure {
	b := ms[0]
	for _, m := range ms[1:] {
		if m.wall < b.wall {
			b = m
		}
	}
	return b
}

func summary(ms []measure) string {
	b := best(ms)
	return fmt.Sprintf("%.2f s (%.2f s CPU, %d MB)", b.wall.Seconds(), b.cpu.Seconds(), b.rssMB)
}

func tail(s string) string {
	if len(s) > 2000 {
		return "..." + s[len(s)-2000:]
	}
	return s
}

func verdictDenied(out []byte) (int, error) {
	var r struct {
		Summary struct{ Denied int } `json:"summary"`
	}
	err := json.Unmarshal(out, &r)
	return r.Summary.Denied, err
}

// jsonArrayLen counts gator test's results: one JSON array entry per violation.
func jsonArrayLen(out []byte) (int, error) {
	var r []json.RawMessage
	err := json.Unmarshal(out, &r)
	return len(r), err
}

// conftestFailures counts the failures of conftest's JSON report: one entry per file, with its
// failures.
func conftestFailures(out []byte) (int, error) {
	var r []struct {
		Failures []json.RawMessage `json:"failures"`
	}
	err := json.Unmarshal(out, &r)
	n := 0
	for _, f := range r {
		n += len(f.Failures)
	}
	return n, err
}

var kyvernoFail = regexp.MustCompile(`fail: (\d+)`)

// kyvernoFailures reads the "pass: N, fail: N, ..." line of kyverno apply.
func kyvernoFailures(out []byte) (int, error) {
	m := kyvernoFail.FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("no fail count in kyverno's output: %s", tail(string(out)))
	}
	return strconv.Atoi(string(m[1]))
}

// sarifResults counts the results of a SARIF report.
func sarifResults(out []byte) (int, error) {
	var r struct {
		Runs []struct {
			Results []json.RawMessage `json:"results"`
		} `json:"runs"`
	}
	err := json.Unmarshal(out, &r)
	n := 0
	for _, run := range r.Runs {
		n += len(run.Results)
	}
	return n, err
}

// rbacAllowed counts the questions rbac check's JSON report says are allowed.
func rbacAllowed(out []byte) (int, error) {
	var r struct {
		Results []struct{ Allowed bool } `json:"results"`
	}
	err := json.Unmarshal(out, &r)
	n := 0
	for _, c := range r.Results {
		if c.Allowed {
			n++
		}
	}
	if err == nil && len(r.Results) == 0 {
		err = errors.New("rbac check answered no question")
	}
	return n, err
}

var kubeauthzLine = regexp.MustCompile(`^(\d+) of (\d+) allowed`)

// kubeauthzAllowed reads kubeauthz's "N of M allowed".
func kubeauthzAllowed(out []byte) (int, error) {
	m := kubeauthzLine.FindSubmatch(out)
	if m == nil || string(m[2]) == "0" {
		return 0, fmt.Errorf("kubeauthz answered nothing: %s", tail(string(out)))
	}
	return strconv.Atoi(string(m[1]))
}

// yesOrNo is can-i's answer: 1 for yes, 0 for no.
func yesOrNo(out []byte) (int, error) {
	switch strings.TrimSpace(string(out)) {
	case "yes":
		return 1, nil
	case "no":
		return 0, nil
	}
	return 0, fmt.Errorf("can-i answered %q", tail(string(out)))
}

// lines counts the lines of a table (its header included).
func lines(out []byte) (int, error) { return bytes.Count(out, []byte("\n")), nil }
