package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const diffOld, diffNew = rbacData + "diff/old", rbacData + "diff/new"

func TestRBACDiff(t *testing.T) {
	tests := []goldenCase{
		{"table", []string{"rbac", "diff", diffOld, diffNew}, 0, "diff/table.txt"},
		{"json", []string{"rbac", "diff", diffOld, diffNew, "-o", "json"}, 0, "diff/changes.json"},
		{"github", []string{"rbac", "diff", diffOld, diffNew, "-o", "github"}, 0, "diff/github.txt"},
		{"sarif", []string{"rbac", "diff", diffOld, diffNew, "-o", "sarif"}, 0, "diff/sarif.json"},
		{"fail on risky", []string{"rbac", "diff", diffOld, diffNew, "--fail-on", "risky", "-o", "json"}, 1, "diff/changes.json"},
		{"fail on any, reversed", []string{"rbac", "diff", diffNew, diffOld, "--fail-on", "any"}, 1, "diff/reversed.txt"},
		{"reversed has no risky gain", []string{"rbac", "diff", diffNew, diffOld, "--fail-on", "risky"}, 0, "diff/reversed.txt"},
		{"no change", []string{"rbac", "diff", diffOld, diffOld, "--fail-on", "any", "--with-defaults"}, 0, "diff/none.txt"},
	}
	runGoldenRBAC(t, tests)
}

func TestRBACDiffStdin(t *testing.T) {
	data, err := os.ReadFile(diffNew + "/rbac.yaml")
	if err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, string(data), "rbac", "diff", diffOld, "-", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	want, _ := os.ReadFile(filepath.Join(rbacData, "diff/changes.json"))
	if out != string(want) {
		t.Errorf("stdin side differs from the folder side:\n%s", out)
	}
	if code, _, errOut := runCLI(t, "", "rbac", "diff", "-", "-"); code != 2 || !strings.Contains(errOut, "only one side") {
		t.Errorf("two stdin sides: exit %d, %s", code, errOut)
	}
}

// TestRBACDiffGitRevision reads the OLD side from a commit of a temporary repository, as a pull
// request's CI job does with main:rbac/, and names the files of the annotations as the repository does.
func TestRBACDiffGitRevision(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	oldData, err := os.ReadFile(diffOld + "/rbac.yaml")
	if err != nil {
		t.Fatal(err)
	}
	newData, err := os.ReadFile(diffNew + "/rbac.yaml")
	if err != nil {
		t.Fatal(err)
	}
	repo := t.TempDir()
	write := func(name string, data []byte) {
		t.Helper()
		p := filepath.Join(repo, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gitIn(t, repo, "init", "-q", "-b", "main")
	write("rbac/team/rbac.yaml", oldData)
	write("rbac/kustomization.yaml", []byte("resources: [team/rbac.yaml]\n"))
	write("rbac/notes.txt", []byte("not a manifest\n"))
	gitIn(t, repo, "add", ".")
	gitIn(t, repo, "commit", "-q", "-m", "old")
	gitIn(t, repo, "checkout", "-q", "-b", "change")
	write("rbac/team/rbac.yaml", newData)
	gitIn(t, repo, "commit", "-q", "-am", "new")
	t.Chdir(repo)

	tests := []struct {
		name, old, new string
		code           int
		contains       []string
	}{
		{"revision against the working tree", "main:rbac/", "rbac/", 1, []string{"::warning file=rbac/team/rbac.yaml,line=1,", "::notice file=rbac/team/rbac.yaml,line=16,"}},
		{"two revisions", "main:rbac", "change:rbac/team/rbac.yaml", 1, []string{"file=rbac/team/rbac.yaml,line=1,"}},
		{"same revision", "main:rbac/", "main:rbac/team", 0, nil},
		{"revision of the root", "main:", "HEAD:", 1, []string{"file=rbac/team/rbac.yaml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, "", "rbac", "diff", tt.old, tt.new, "-o", "github", "--fail-on", "any")
			if code != tt.code {
				t.Fatalf("exit %d, want %d; stdout:\n%s\nstderr:\n%s", code, tt.code, out, errOut)
			}
			for _, s := range tt.contains {
				if !strings.Contains(out, s) {
					t.Errorf("output lacks %q:\n%s", s, out)
				}
			}
		})
	}
	if code, _, errOut := runCLI(t, "", "rbac", "diff", "main:nothing/", "rbac/"); code != 2 || !strings.Contains(errOut, "main:nothing") {
		t.Errorf("a missing path of a revision: exit %d, %s", code, errOut)
	}
	if code, _, errOut := runCLI(t, "", "rbac", "diff", "no-such-branch:rbac/", "rbac/"); code != 2 || !strings.Contains(errOut, "no-such-branch:rbac/") {
		t.Errorf("an unknown revision is a path: exit %d, %s", code, errOut)
	}
}

// gitIn runs git with args in the repository repo, with an author and no user or system configuration.
func gitIn(t *testing.T, repo string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = repo
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t",
		"GIT_COMMITTER_EMAIL=t@example.com", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_SYSTEM=/dev/null")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}
