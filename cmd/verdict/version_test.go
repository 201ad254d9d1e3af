package main

import (
	"encoding/json"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestVersionJSON(t *testing.T) {
	code, stdout, stderr := runCLI(t, "", "version", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	// Exactly these keys, in this order.
	keys := regexp.MustCompile(`"(\w+)":`).FindAllStringSubmatch(stdout, -1)
	var got []string
	for _, k := range keys {
		got = append(got, k[1])
	}
	if diff := cmp.Diff([]string{"version", "commit", "buildDate", "go", "kubernetes"}, got); diff != "" {
		t.Errorf("keys (-want +got):\n%s", diff)
	}
	var v versionInfo
	if err := json.Unmarshal([]byte(stdout), &v); err != nil {
		t.Fatal(err)
	}
	// The test binary is linked with the module's own k8s.io/api, v0.37.2.
	if v.Kubernetes != "v1.37.2" || v.Go != runtime.Version() || v.Version == "" {
		t.Errorf("got %+v", v)
	}
}

func TestVersionText(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		code, stdout, stderr := runCLI(t, "", args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
		for _, want := range []string{"verdict ", "commit:", "build date:", "go:         " + runtime.Version(), "kubernetes: v1.37.2"} {
			if !strings.Contains(stdout, want) {
				t.Errorf("%v: %q does not contain %q", args, stdout, want)
			}
		}
	}
	if code, _, stderr := runCLI(t, "", "version", "-o", "yaml"); code != 2 || !strings.Contains(stderr, `--output "yaml"`) {
		t.Errorf("version -o yaml: exit %d, %q", code, stderr)
	}
}

func TestReadVersion(t *testing.T) {
	bi := &debug.BuildInfo{
		GoVersion: "go1.26.8",
		Main:      debug.Module{Path: "github.com/verdict-dev/verdict", Version: "v0.2.0"},
		Deps:      []*debug.Module{{Path: "k8s.io/apimachinery", Version: "v0.36.0"}, {Path: "k8s.io/api", Version: "v0.37.2"}},
		Settings:  []debug.BuildSetting{{Key: "vcs.revision", Value: "0123abcd"}, {Key: "vcs.time", Value: "2026-11-30T10:00:00Z"}},
	}
	replaced := *bi
	replaced.Deps = []*debug.Module{{Path: "k8s.io/api", Version: "v0.37.2", Replace: &debug.Module{Path: "../api", Version: "v0.38.0-alpha.1"}}}
	replaced.Main.Version = "(devel)"
	tests := []struct {
		name                        string
		ldVersion, ldCommit, ldDate string
		bi                          *debug.BuildInfo
		want                        versionInfo
	}{
		{name: "go install module@version: all from build info", bi: bi,
			want: versionInfo{Version: "v0.2.0", Commit: "0123abcd", BuildDate: "2026-11-30T10:00:00Z", Kubernetes: "v1.37.2"}},
		{name: "-ldflags -X wins", ldVersion: "v0.3.0", ldCommit: "ffff", ldDate: "2026-12-01T00:00:00Z", bi: bi,
			want: versionInfo{Version: "v0.3.0", Commit: "ffff", BuildDate: "2026-12-01T00:00:00Z", Kubernetes: "v1.37.2"}},
		{name: "a development build, k8s.io/api replaced", bi: &replaced,
			want: versionInfo{Version: "dev", Commit: "0123abcd", BuildDate: "2026-11-30T10:00:00Z", Kubernetes: "v1.38.0-alpha.1"}},
		{name: "no build info", want: versionInfo{Version: "dev"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			defer func(v, c, d string) { version, commit, buildDate = v, c, d }(version, commit, buildDate)
			version, commit, buildDate = tc.ldVersion, tc.ldCommit, tc.ldDate
			got := readVersion(tc.bi, tc.bi != nil)
			tc.want.Go = runtime.Version()
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
