package compare

import (
	"bytes"
	"encoding/json"
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
	run      = flag.Bool("compare", false, "run the comparison (make compare)")
	verdict  = flag.String("verdict", "../../bin/verdict", "the verdict binary")
	gator    = flag.String("gator", "", "a gator binary (optional)")
	conftest = flag.String("conftest", "", "a conftest binary (optional)")
	kyverno  = flag.String("kyverno", "", "a kubectl-kyverno binary (optional)")
	runs     = flag.Int("runs", 2, "runs of each command, alternating between the tools")
	pods     = flag.Int("pods", 10000, "Pods in the input file")
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
	job      string
	verdict  tool
	peer     tool
	expected int
}

func TestCompare(t *testing.T) {
	if !*run {
		t.Skip("only with -compare (make compare)")
	}
	dir := t.TempDir()
	input := filepath.Join(dir, "pods.yaml")
	if err := os.WriteFile(input, fixtures.Pods(*pods), 0o644); err != nil {
		t.Fatal(err)
	}
	policy := func(format string) string { return filepath.Join("requiredlabel", format) }
	want := fixtures.PodsWithoutOwner(*pods)
	rows := []row{
		{fmt.Sprintf("check of %d Pods, one required-label rule as a Gatekeeper template", *pods),
			tool{"verdict check", verdict, []string{"check", "-o", "json", "-p", policy("gatekeeper"), input}, verdictDenied},
			tool{"gator test", gator, []string{"test", "-o", "json", "-f", policy("gatekeeper"), "-f", input}, jsonArrayLen}, want},
		{"the same rule as plain Rego",
			tool{"verdict check", verdict, []string{"check", "-o", "json", "-p", policy("rego"), input}, verdictDenied},
			tool{"conftest test", conftest, []string{"test", "-o", "json", "-p", policy("rego"), input}, conftestFailures}, want},
		{"the same rule as a ValidatingAdmissionPolicy",
			tool{"verdict check", verdict, []string{"check", "-o", "json", "-p", policy("vap"), input}, verdictDenied},
			tool{"kyverno apply", kyverno, []string{"apply", filepath.Join(policy("vap"), "vap.yaml"), "--resource", input}, kyvernoFailures}, want},
	}
	var table strings.Builder
	fmt.Fprintf(&table, "| job | verdict | peer | ratio (wall) |\n|---|---|---|---|\n")
	for _, r := range rows {
		var mine, theirs []measure
		for i := 0; i < *runs; i++ {
			mine = append(mine, runTool(t, r.verdict, r.expected))
			if *r.peer.bin != "" {
				theirs = append(theirs, runTool(t, r.peer, r.expected))
			}
		}
		peer, ratio := "not measured (no binary given)", "—"
		if len(theirs) > 0 {
			peer = r.peer.name + ": " + summary(theirs)
			ratio = fmt.Sprintf("%.1f×", best(theirs).wall.Seconds()/best(mine).wall.Seconds())
		}
		fmt.Fprintf(&table, "| %s | %s | %s | %s |\n", r.job, summary(mine), peer, ratio)
	}
	t.Logf("each command %d times, alternating; best wall time, its CPU time and peak RSS; every tool found %d violations\n\n%s", *runs, want, table.String())
}

func runTool(t *testing.T, tl tool, expected int) measure {
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
	if cerr != nil || found != expected {
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
