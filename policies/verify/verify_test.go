package verify

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/verdict-dev/verdict/internal/testkit"
)

// golden compares got with testdata/golden/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	testkit.Golden(t, filepath.Join("testdata", "golden", name), got)
}

func run(t *testing.T, paths ...string) *Report {
	t.Helper()
	r, err := Run(context.Background(), Options{Paths: paths})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return r
}

func TestSuites(t *testing.T) {
	cases := []struct {
		dir     string
		want    Summary
		formats []string
		verbose bool
	}{
		{dir: "assertions", want: Summary{Passed: 13, Skipped: 2}, formats: []string{"text"}, verbose: true},
		{dir: "failing", want: Summary{Passed: 1, Failed: 5}, formats: []string{"text", "json", "junit"}},
		{dir: "disagree", want: Summary{Passed: 1, Failed: 1}, formats: []string{"text", "json"}},
		{dir: "invalid", want: Summary{Passed: 1, Failed: 1}, formats: []string{"text"}},
		{dir: "broken", want: Summary{Passed: 1, Errors: 8}, formats: []string{"text", "junit"}},
		{dir: "brokensuite", want: Summary{Errors: 1}, formats: []string{"text"}},
		{dir: "skipped", want: Summary{Skipped: 1}, formats: []string{"text"}},
		{dir: "verdict", want: Summary{Passed: 7, Failed: 2, Errors: 1}, formats: []string{"text", "json"}, verbose: true},
	}
	for _, tc := range cases {
		t.Run(tc.dir, func(t *testing.T) {
			r := run(t, filepath.Join("testdata", tc.dir))
			if diff := cmp.Diff(tc.want, r.Summary); diff != "" {
				t.Errorf("summary (-want +got):\n%s", diff)
			}
			for _, f := range tc.formats {
				var b bytes.Buffer
				if err := r.Write(&b, f, tc.verbose); err != nil {
					t.Fatal(err)
				}
				ext := map[string]string{"text": "txt", "json": "json", "junit": "xml"}[f]
				golden(t, tc.dir+"."+ext, b.Bytes())
			}
		})
	}
}

func TestBrokenCasesNameSuiteTestAndCase(t *testing.T) {
	r := run(t, "testdata/broken")
	want := map[string]string{
		"template-does-not-compile/any":  `bad-template.yaml:1: document 1: ConstraintTemplate "k8sbroken": spec.targets[0].rego:5:1: rego_parse_error`,
		"constraint-of-unknown-kind/any": `no ConstraintTemplate defines kind K8sNoSuchTemplate`,
		"missing-template/any":           `no-such-template.yaml: no such file or directory`,
		"bad-cases/missing-object-file":  `no-such-object.yaml: no such file or directory`,
		"bad-cases/object-not-yaml":      `bad.yaml:4: document 1: invalid YAML`,
		"bad-cases/invalid-regex":        `invalid regular expression "(unclosed"`,
		"bad-cases/bad-violations":       `must be a nonnegative integer, "yes", or "no"`,
		"bad-cases/no-assertions":        `assertions must be non-empty`,
	}
	for _, res := range r.Results {
		w, ok := want[res.Name()]
		if !ok {
			continue
		}
		delete(want, res.Name())
		if res.Status != Error || !strings.Contains(res.Message, w) || res.Suite != "testdata/broken/suite.yaml" {
			t.Errorf("%s: %s %q, want an error containing %q", res.Name(), res.Status, res.Message, w)
		}
	}
	for name := range want {
		t.Errorf("no result for %s", name)
	}
}

func TestEnginesDisagree(t *testing.T) {
	r := run(t, "testdata/disagree")
	res := r.Results[1]
	if res.Status != Fail || !strings.HasPrefix(res.Message, "engines disagree: cel:") || len(res.Engines) != 2 ||
		res.Engines[0].Passed || !res.Engines[1].Passed {
		t.Errorf("result = %+v", res)
	}
}

func TestFiles(t *testing.T) {
	cases := []struct {
		args []string
		want []string
		err  string
	}{
		{args: []string{"testdata/discovery"}, want: []string{"testdata/discovery/nested/suite.yaml"}},
		{args: []string{"testdata/discovery/..."}, want: []string{"testdata/discovery/named-otherwise.yaml", "testdata/discovery/nested/suite.yaml"}},
		{args: []string{"testdata/discovery/named-otherwise.yaml"}, want: []string{"testdata/discovery/named-otherwise.yaml"}},
		{args: []string{"testdata/discovery/named-otherwise.yaml/..."}, err: "not a directory"},
		{args: []string{"testdata/nothing-here"}, err: "no such file or directory"},
	}
	for _, tc := range cases {
		got, err := Files(tc.args)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("Files(%v) error = %v, want %q", tc.args, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("Files(%v) (-want +got):\n%s", tc.args, diff)
		}
	}
}

func TestNotASuite(t *testing.T) {
	r := run(t, "testdata/discovery/not-a-suite.yaml")
	if r.Summary.Errors != 1 || !strings.Contains(r.Results[0].Message, `not a suite`) {
		t.Errorf("results = %+v", r.Results)
	}
}

func TestAssertions(t *testing.T) {
	cases := []struct {
		violations string
		message    string
		msgs       []string
		fail       string
	}{
		{violations: `"yes"`, msgs: []string{"a"}},
		{violations: `true`, msgs: []string{"a"}},
		{violations: ``, msgs: nil, fail: "want at least 1 violation, got 0"},
		{violations: `"no"`, msgs: nil},
		{violations: `false`, msgs: []string{"a"}, fail: "want no violations, got 1"},
		{violations: `2`, msgs: []string{"a", "b"}},
		{violations: `2`, msgs: []string{"a"}, fail: "want exactly 2 violations, got 1"},
		{violations: `1`, message: "^b", msgs: []string{"a", "b"}},
		{violations: `"yes"`, message: "c", msgs: []string{"a", "b"}, fail: `want at least 1 violation matching "c", got 0 matching`},
		{violations: `"no"`, message: "a", msgs: []string{"a", "b"}, fail: `want no violations matching "a", got 1 matching`},
	}
	for _, tc := range cases {
		a := assertion{}
		if tc.violations != "" {
			a.Violations = []byte(tc.violations)
		}
		if tc.message != "" {
			a.Message = &tc.message
		}
		e, err := a.compile()
		if err != nil {
			t.Fatal(err)
		}
		if got := e.check(tc.msgs); got != tc.fail {
			t.Errorf("violations %s message %q on %v: %q, want %q", tc.violations, tc.message, tc.msgs, got, tc.fail)
		}
	}
}
