package test

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// action is the part of GitHub's action metadata syntax that a composite action uses.
type action struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Author      string `json:"author"`
	Branding    struct {
		Icon  string `json:"icon"`
		Color string `json:"color"`
	} `json:"branding"`
	Inputs map[string]struct {
		Description string `json:"description"`
		Required    bool   `json:"required"`
		Default     string `json:"default"`
	} `json:"inputs"`
	Outputs map[string]struct {
		Description string `json:"description"`
		Value       string `json:"value"`
	} `json:"outputs"`
	Runs struct {
		Using string `json:"using"`
		Steps []struct {
			ID    string            `json:"id"`
			Name  string            `json:"name"`
			If    string            `json:"if"`
			Uses  string            `json:"uses"`
			With  map[string]string `json:"with"`
			Run   string            `json:"run"`
			Shell string            `json:"shell"`
			Env   map[string]string `json:"env"`
		} `json:"steps"`
	} `json:"runs"`
}

// TestActionMetadata checks action.yml against the action metadata syntax, as actionlint does for
// workflows (it checks only the inputs that a workflow passes to the action): no unknown key, a
// composite action whose run steps name their shell, every input described and every input, step
// and output reference declared, and the run scripts valid bash.
func TestActionMetadata(t *testing.T) {
	data, err := os.ReadFile("../action.yml")
	if err != nil {
		t.Fatal(err)
	}
	var a action
	if err := yaml.UnmarshalStrict(data, &a); err != nil {
		t.Fatalf("action.yml: %v", err)
	}
	if a.Name == "" || a.Description == "" || a.Runs.Using != "composite" {
		t.Fatalf("action.yml: name %q, description %q, runs.using %q: want both and composite", a.Name, a.Description, a.Runs.Using)
	}
	for name, in := range a.Inputs {
		if in.Description == "" {
			t.Errorf("input %s has no description", name)
		}
	}
	ids := map[string]bool{}
	for i, s := range a.Runs.Steps {
		if (s.Run == "") == (s.Uses == "") {
			t.Errorf("step %d: want exactly one of run and uses", i)
		}
		if s.Run != "" && s.Shell == "" {
			t.Errorf("step %d (%s): a composite action's run step must name its shell", i, s.Name)
		}
		if s.Uses != "" && !regexp.MustCompile(`^[\w.-]+/[\w./-]+@v\d+$`).MatchString(s.Uses) {
			t.Errorf("step %d: uses %q: want owner/repo[/path]@vN", i, s.Uses)
		}
		if strings.Contains(s.Run, "${{") {
			t.Errorf("step %d (%s): expressions in run are injected into the script; pass them through env", i, s.Name)
		}
		if s.Run != "" {
			cmd := exec.Command("bash", "-n")
			cmd.Stdin = strings.NewReader(s.Run)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("step %d (%s): bash -n: %v\n%s", i, s.Name, err, out)
			}
		}
		if s.ID != "" {
			ids[s.ID] = true
		}
	}
	for _, m := range regexp.MustCompile(`\binputs\.([\w-]+)`).FindAllStringSubmatch(string(data), -1) {
		if _, ok := a.Inputs[m[1]]; !ok {
			t.Errorf("action.yml refers to inputs.%s, which it does not declare", m[1])
		}
	}
	for _, m := range regexp.MustCompile(`\bsteps\.([\w-]+)\.outputs`).FindAllStringSubmatch(string(data), -1) {
		if !ids[m[1]] {
			t.Errorf("action.yml refers to steps.%s, a step id it does not declare", m[1])
		}
	}
}

// The pre-commit hooks run verdict check on the files pre-commit names.
func TestPreCommitHooks(t *testing.T) {
	data, err := os.ReadFile("../.pre-commit-hooks.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var hooks []struct {
		ID            string   `json:"id"`
		Name          string   `json:"name"`
		Description   string   `json:"description"`
		Entry         string   `json:"entry"`
		Language      string   `json:"language"`
		Files         string   `json:"files"`
		Exclude       string   `json:"exclude"`
		TypesOr       []string `json:"types_or"`
		PassFilenames *bool    `json:"pass_filenames"`
		AlwaysRun     bool     `json:"always_run"`
		Args          []string `json:"args"`
	}
	if err := yaml.UnmarshalStrict(data, &hooks); err != nil {
		t.Fatalf(".pre-commit-hooks.yaml: %v", err)
	}
	if len(hooks) == 0 {
		t.Fatal(".pre-commit-hooks.yaml has no hook")
	}
	for _, h := range hooks {
		if h.ID == "" || h.Name == "" || h.Language != "golang" || !strings.HasPrefix(h.Entry, "verdict check") {
			t.Errorf("hook %+v: want an id, a name, language golang and entry verdict check", h)
		}
		for _, re := range []string{h.Files, h.Exclude} {
			if _, err := regexp.Compile(re); err != nil {
				t.Errorf("hook %s: %v", h.ID, err)
			}
		}
	}
}
