package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// README.md's examples, run. Every line of its ```sh blocks, every `$ ` line of its ```text blocks,
// and the verdict steps of its YAML CI examples (`run:` steps, GitLab `script:` lines, pre-commit
// hooks) is a command line that this test runs in-process, against the files under
// test/testdata/readme that the README names, and that must exit 0 or 1, never 2 (bad input). Where
// the README shows the output (a `$ ` line followed by what it prints), the output must be exactly
// that. What needs a cluster or runs until stopped has its flags parsed by the real command instead;
// make, helm, kubectl and the like are skipped by a named rule. A line that no rule takes fails the
// test, so that a new example cannot go untested.

// readmeFixture holds the files README's commands name (deploy.yaml, policies/, manifests/, rbac/...).
const readmeFixture = "test/testdata/readme"

// readmeSkips are the programs whose README lines this test does not run, and why. A line is
// skipped only when it does not pipe into verdict.
var readmeSkips = map[string]string{
	"make":    "make targets build the project and run its whole test suite; CI runs them",
	"helm":    "helm install needs a cluster; test/chart_test.go renders and checks the chart",
	"kubectl": "kubectl apply, rollout and label need a cluster; test/install_test.go renders config/",
	"skopeo":  "skopeo copies the image make image writes; make test-image checks that layout",
	"go":      "go install builds verdict from the module proxy; this test runs the code it would build",
}

// readmeFlagsOnly are the commands that cannot run here, and why: their flags and arguments are parsed
// by the real command, and nothing is started.
var readmeFlagsOnly = map[string]string{
	"verdict serve": "serve runs until it is stopped",
	"verdict audit": "audit reads the objects of a live cluster through --kubeconfig",
}

// readmeClusterFlags make any command read a live cluster, so that it too is only parsed.
var readmeClusterFlags = []string{"--kubeconfig", "--from-cluster"}

// readmeEnv is what ${VAR} expands to: GitHub's variables as in a pull request to main.
var readmeEnv = map[string]string{"GITHUB_BASE_REF": "main"}

// readmePreCommitFiles are the files a commit changes, which pre-commit passes to a hook that takes
// file names.
var readmePreCommitFiles = []string{"deploy.yaml", "manifests/apps.yaml"}

// readmeCommand is one command line of README.md.
type readmeCommand struct {
	line   int      // in README.md, from 1
	text   string   // the command line, without its prompt
	output []string // the lines README shows it printing, if it shows any
	shown  bool     // README shows the output (a `$ ` line)
	step   string   // "uses: ..." for a workflow step that calls verdict's action
}

func (c readmeCommand) String() string { return fmt.Sprintf("README.md:%d: %s", c.line, c.text) }

// readmeBlock is a fenced code block of README.md.
type readmeBlock struct {
	lang  string
	start int // the line of its first content line, from 1
	lines []string
}

func readmeBlocks(t *testing.T, data string) []readmeBlock {
	t.Helper()
	var blocks []readmeBlock
	var cur *readmeBlock
	for i, l := range strings.Split(data, "\n") {
		trimmed := strings.TrimSpace(l)
		if !strings.HasPrefix(trimmed, "```") {
			if cur != nil {
				cur.lines = append(cur.lines, l)
			}
			continue
		}
		if cur != nil {
			// An indented block (in a list) is indented as a whole.
			blocks = append(blocks, *cur)
			cur = nil
			continue
		}
		cur = &readmeBlock{lang: strings.TrimPrefix(trimmed, "```"), start: i + 2}
	}
	if cur != nil {
		t.Fatalf("README.md:%d: a code block that is never closed", cur.start-1)
	}
	return blocks
}

// readmeCommands extracts every command line of README.md.
func readmeCommands(t *testing.T, data string) []readmeCommand {
	t.Helper()
	var cmds []readmeCommand
	for _, b := range readmeBlocks(t, data) {
		switch b.lang {
		case "sh", "text":
			cmds = append(cmds, shellBlockCommands(b)...)
		case "yaml":
			cmds = append(cmds, yamlBlockCommands(t, b)...)
		case "":
			t.Errorf("README.md:%d: a code block without a language: name it (sh, text, yaml), so that this test knows whether it holds commands", b.start-1)
		}
	}
	return cmds
}

// shellBlockCommands are the lines of a sh block, or its `$ ` lines with the output that follows each
// when the block shows a session; a text block holds commands only as `$ ` lines.
func shellBlockCommands(b readmeBlock) []readmeCommand {
	session := b.lang == "text"
	for _, l := range b.lines {
		if strings.HasPrefix(strings.TrimSpace(l), "$ ") {
			session = true
		}
	}
	var cmds []readmeCommand
	for i, l := range b.lines {
		l = strings.TrimSpace(l)
		switch {
		case session && strings.HasPrefix(l, "$ "):
			cmds = append(cmds, readmeCommand{line: b.start + i, text: strings.TrimPrefix(l, "$ "), shown: true})
		case session && len(cmds) > 0:
			last := &cmds[len(cmds)-1]
			last.output = append(last.output, b.lines[i])
		case !session && l != "" && !strings.HasPrefix(l, "#"):
			cmds = append(cmds, readmeCommand{line: b.start + i, text: l})
		}
	}
	return cmds
}

// yamlBlockCommands are the shell lines of a CI example: `run:` steps and `script:` lines, steps that
// use verdict's action, and pre-commit hooks of verdict's repository (the hook's entry from
// .pre-commit-hooks.yaml, its args, and the files of a commit).
func yamlBlockCommands(t *testing.T, b readmeBlock) []readmeCommand {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(strings.Join(b.lines, "\n")), &doc); err != nil {
		t.Errorf("README.md:%d: the YAML block does not parse: %v", b.start-1, err)
		return nil
	}
	line := func(n *yaml.Node) int { return b.start + n.Line - 1 }
	var cmds []readmeCommand
	var walk func(n *yaml.Node, verdictRepo bool)
	walk = func(n *yaml.Node, verdictRepo bool) {
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				if k, v := n.Content[i].Value, n.Content[i+1]; k == "repo" && strings.HasSuffix(v.Value, "/verdict-dev/verdict") {
					verdictRepo = true
				}
			}
			if verdictRepo && mapValue(n, "id") != nil {
				cmds = append(cmds, preCommitCommand(t, n, line(n)))
				return
			}
		}
		for i, c := range n.Content {
			if n.Kind != yaml.MappingNode || i%2 == 0 {
				walk(c, verdictRepo)
				continue
			}
			switch k := n.Content[i-1].Value; {
			case k == "run" && c.Kind == yaml.ScalarNode:
				first := line(c)
				if c.Style == yaml.LiteralStyle || c.Style == yaml.FoldedStyle {
					first++
				}
				for j, l := range strings.Split(strings.TrimRight(c.Value, "\n"), "\n") {
					if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
						cmds = append(cmds, readmeCommand{line: first + j, text: l})
					}
				}
			case k == "script" && c.Kind == yaml.SequenceNode:
				for _, s := range c.Content {
					cmds = append(cmds, readmeCommand{line: line(s), text: s.Value})
				}
			case k == "uses" && strings.HasPrefix(c.Value, "verdict-dev/verdict"):
				cmds = append(cmds, readmeCommand{line: line(c), text: "uses: " + c.Value, step: c.Value})
			default:
				walk(c, verdictRepo)
			}
		}
	}
	walk(&doc, false)
	return cmds
}

func mapValue(n *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// preCommitCommand is the command line pre-commit runs for a hook of verdict's repository.
func preCommitCommand(t *testing.T, hook *yaml.Node, line int) readmeCommand {
	t.Helper()
	id := mapValue(hook, "id").Value
	data, err := os.ReadFile(filepath.Join(repoRoot(t), ".pre-commit-hooks.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var hooks []struct {
		ID            string `yaml:"id"`
		Entry         string `yaml:"entry"`
		PassFilenames *bool  `yaml:"pass_filenames"`
	}
	if err := yaml.Unmarshal(data, &hooks); err != nil {
		t.Fatalf(".pre-commit-hooks.yaml: %v", err)
	}
	var args []string
	if a := mapValue(hook, "args"); a != nil {
		if err := a.Decode(&args); err != nil {
			t.Errorf("README.md:%d: hook %s: args: %v", line, id, err)
		}
	}
	for _, h := range hooks {
		if h.ID != id {
			continue
		}
		words := append(strings.Fields(h.Entry), args...)
		if h.PassFilenames == nil || *h.PassFilenames {
			words = append(words, readmePreCommitFiles...)
		}
		return readmeCommand{line: line, text: strings.Join(words, " ")}
	}
	t.Errorf("README.md:%d: pre-commit hook %q is not in .pre-commit-hooks.yaml", line, id)
	return readmeCommand{line: line, text: "pre-commit hook " + id}
}

// shellWord is a word of a command line, or one of the operators &&, |, > and <.
type shellWord struct {
	text string
	op   bool
}

// shellWords splits a command line as sh does, for the forms README uses: words, '...' and "..."
// quotes, ${VAR} (from readmeEnv), the operators &&, |, > and <, and a # comment.
func shellWords(s string) ([]shellWord, error) {
	var words []shellWord
	var cur strings.Builder
	inWord := false
	end := func() {
		if inWord {
			words = append(words, shellWord{text: cur.String()})
		}
		cur.Reset()
		inWord = false
	}
	expand := func(i int) (int, error) { // s[i] == '$'
		if i+1 >= len(s) || s[i+1] != '{' {
			return 0, fmt.Errorf("$ without {NAME} at column %d: write ${NAME}", i+1)
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			return 0, fmt.Errorf("unterminated ${ at column %d", i+1)
		}
		name := s[i+2 : i+j]
		v, ok := readmeEnv[name]
		if !ok {
			return 0, fmt.Errorf("${%s} is not set: give it a value in readmeEnv", name)
		}
		cur.WriteString(v)
		return i + j, nil
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == ' ' || c == '\t':
			end()
		case c == '#' && !inWord:
			end()
			return words, nil
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, fmt.Errorf("unterminated ' at column %d", i+1)
			}
			cur.WriteString(s[i+1 : i+1+j])
			inWord = true
			i += j + 1
		case c == '"':
			inWord = true
			for i++; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '$' {
					var err error
					if i, err = expand(i); err != nil {
						return nil, err
					}
					continue
				}
				cur.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, fmt.Errorf("unterminated \" in %q", s)
			}
		case c == '$':
			var err error
			if i, err = expand(i); err != nil {
				return nil, err
			}
			inWord = true
		case c == '|' || c == '>' || c == '<' || (c == '&' && strings.HasPrefix(s[i:], "&&")):
			end()
			op := string(c)
			if c == '&' {
				op, i = "&&", i+1
			}
			words = append(words, shellWord{text: op, op: true})
		case c == ';' || c == '&' || c == '(' || c == ')' || c == '`':
			return nil, fmt.Errorf("%q at column %d: this test reads only &&, |, > and <", c, i+1)
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	end()
	return words, nil
}

// readmePlan is how a command line runs: in dir, verdict's arguments, with stdin from a producer.
type readmePlan struct {
	cd       string   // a `cd DIR &&` prefix: DIR of the repository, where README's reader stands
	producer []string // the command whose output verdict reads on standard input
	args     []string // verdict's arguments
	redirect string   // > FILE: standard output goes there, not to the terminal
	skip     string   // why the line is not run
}

func planREADME(c readmeCommand) (readmePlan, error) {
	var p readmePlan
	if c.step != "" {
		p.skip = "a step that uses verdict's GitHub Action: action.yml builds its command line, and test/action_test.go checks it"
		return p, nil
	}
	words, err := shellWords(c.text)
	if err != nil {
		return p, err
	}
	// Split into && steps, each into | stages.
	var steps [][][]shellWord
	stage := []shellWord{}
	step := [][]shellWord{}
	for _, w := range words {
		switch {
		case w.op && w.text == "&&":
			steps, step, stage = append(steps, append(step, stage)), nil, nil
		case w.op && w.text == "|":
			step, stage = append(step, stage), nil
		default:
			stage = append(stage, w)
		}
	}
	steps = append(steps, append(step, stage))
	if first := steps[0][0]; len(steps) == 2 && len(steps[0]) == 1 && len(first) == 2 && first[0].text == "cd" {
		p.cd = first[1].text
		steps = steps[1:]
	}
	if len(steps) != 1 || len(steps[0]) > 2 {
		return p, fmt.Errorf("this test runs [cd DIR &&] [PRODUCER |] verdict ... [> FILE]; teach planREADME this form")
	}
	stages := steps[0]
	last := stages[len(stages)-1]
	if len(last) == 0 || last[0].text != "verdict" {
		name := stages[0][0].text
		if why, ok := readmeSkips[name]; ok {
			p.skip = why
			return p, nil
		}
		return p, fmt.Errorf("this test does not know how to run %s: add a rule to readmeSkips in cmd/verdict/readme_test.go if it cannot run here, or make it a verdict command", name)
	}
	for i, w := range last[1:] {
		switch {
		case w.op && w.text == ">" && i+2 < len(last) && i+3 == len(last):
			p.redirect = last[i+2].text
		case w.op:
			if p.redirect == "" {
				return p, fmt.Errorf("operator %s: this test reads only > FILE at the end of verdict's arguments", w.text)
			}
		case p.redirect == "":
			p.args = append(p.args, w.text)
		}
	}
	if len(stages) == 2 {
		for _, w := range stages[0] {
			p.producer = append(p.producer, w.text)
		}
	}
	return p, nil
}

// readmeStdin is the output of the command that pipes into verdict, made from the fixture: kustomize's
// rendering of an overlay, by kustomize's own code (what `kustomize build` and `kubectl kustomize` run).
func readmeStdin(t *testing.T, producer []string) []byte {
	t.Helper()
	var dir string
	switch {
	case len(producer) == 3 && producer[0] == "kustomize" && producer[1] == "build":
		dir = producer[2]
	case len(producer) == 3 && producer[0] == "kubectl" && producer[1] == "kustomize":
		dir = producer[2]
	default:
		t.Fatalf("this test has no fixture for the output of %q: add a case to readmeStdin that makes it from test/testdata/readme", strings.Join(producer, " "))
	}
	resources, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("%s: %v", strings.Join(producer, " "), err)
	}
	out, err := resources.AsYaml()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// flagsOnly says why a command cannot run here, or "".
func flagsOnly(path string, args []string) string {
	if why := readmeFlagsOnly[path]; why != "" {
		return why
	}
	for _, a := range args {
		for _, f := range readmeClusterFlags {
			if a == f || strings.HasPrefix(a, f+"=") {
				return f + " reads a live cluster"
			}
		}
	}
	return ""
}

// parseOnly parses the arguments with the real command, as Execute would before running it.
func parseOnly(args []string) (string, error) {
	root := newRootCmd(IOStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: io.Discard})
	root.InitDefaultCompletionCmd()
	cmd, rest, err := root.Find(args)
	if err != nil {
		return "", fmt.Errorf("%w: verdict has no such command; if README documents a command of another branch, merge it first, then give its examples their files in %s (or a rule in readmeFlagsOnly)", err, readmeFixture)
	}
	if err := cmd.ParseFlags(rest); err != nil {
		return cmd.CommandPath(), err
	}
	if err := cmd.ValidateArgs(cmd.Flags().Args()); err != nil {
		return cmd.CommandPath(), err
	}
	if err := cmd.ValidateRequiredFlags(); err != nil {
		return cmd.CommandPath(), err
	}
	return cmd.CommandPath(), cmd.ValidateFlagGroups()
}

// revisionArgs are the REV:PATH arguments of rbac diff: sides read from a Git revision.
func revisionArgs(path string, args []string) bool {
	if path != "verdict rbac diff" {
		return false
	}
	for _, a := range args {
		if rev, _, ok := strings.Cut(a, ":"); ok && rev != "" && !strings.HasPrefix(a, "-") {
			if _, err := os.Stat(rev); err != nil {
				return true
			}
		}
	}
	return false
}

// gitCheckout makes a repository of the fixture as a pull request's job sees it: origin/main holds
// the fixture, and the pull request changes rbac/ into what new-rbac/ holds.
func gitCheckout(t *testing.T, fixture string) string {
	t.Helper()
	repo := t.TempDir()
	if err := os.CopyFS(repo, os.DirFS(fixture)); err != nil {
		t.Fatal(err)
	}
	gitIn(t, repo, "init", "-q", "-b", "main")
	gitIn(t, repo, "add", ".")
	gitIn(t, repo, "commit", "-q", "-m", "base")
	gitIn(t, repo, "update-ref", "refs/remotes/origin/main", "HEAD")
	gitIn(t, repo, "checkout", "-q", "-b", "pull-request")
	if err := os.RemoveAll(filepath.Join(repo, "rbac")); err != nil {
		t.Fatal(err)
	}
	if err := os.CopyFS(filepath.Join(repo, "rbac"), os.DirFS(filepath.Join(repo, "new-rbac"))); err != nil {
		t.Fatal(err)
	}
	gitIn(t, repo, "commit", "-q", "-am", "the change under review")
	return repo
}

// TestREADMECommands runs every command line of README.md.
func TestREADMECommands(t *testing.T) {
	root := repoRoot(t)
	data, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	fixture := filepath.Join(root, readmeFixture)
	cmds := readmeCommands(t, string(data))
	if len(cmds) == 0 {
		t.Fatal("no command lines found in README.md")
	}
	for _, c := range cmds {
		t.Run(fmt.Sprintf("README.md:%d", c.line), func(t *testing.T) {
			p, err := planREADME(c)
			if err != nil {
				t.Fatalf("%s\n%v", c, err)
			}
			if p.skip != "" {
				t.Logf("%s\nskipped: %s", c, p.skip)
				return
			}
			dir := fixture
			if p.cd != "" {
				dir = filepath.Join(root, p.cd)
			}
			t.Chdir(dir)
			path, err := parseOnly(p.args)
			if err != nil {
				t.Fatalf("%s\n%v", c, err)
			}
			if why := flagsOnly(path, p.args); why != "" {
				t.Logf("%s\nflags parsed, not run: %s", c, why)
				return
			}
			if revisionArgs(path, p.args) {
				t.Chdir(gitCheckout(t, fixture))
			}
			var stdin []byte
			if p.producer != nil {
				stdin = readmeStdin(t, p.producer)
			}
			var out, errOut bytes.Buffer
			code := run(p.args, IOStreams{In: bytes.NewReader(stdin), Out: &out, ErrOut: &errOut})
			if code != exitOK && code != exitFindings {
				t.Fatalf("%s\nexit %d, want 0 or 1 (2 is bad input: a file the README names may be missing from %s)\nstdout:\n%s\nstderr:\n%s",
					c, code, readmeFixture, out.String(), errOut.String())
			}
			t.Logf("%s\nexit %d", c, code)
			if c.shown {
				want := strings.Join(c.output, "\n") + "\n"
				if diff := cmp.Diff(want, out.String()); diff != "" {
					t.Errorf("%s\nREADME shows another output than verdict prints (-README +verdict):\n%s", c, diff)
				}
			}
		})
	}
}

// TestREADMESuite runs README's `# suite.yaml` example, as it is written there, on the files it
// names: every case must pass.
func TestREADMESuite(t *testing.T) {
	root := repoRoot(t)
	data, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var suite []string
	for _, b := range readmeBlocks(t, string(data)) {
		if b.lang == "yaml" && len(b.lines) > 0 && b.lines[0] == "# suite.yaml" {
			suite = b.lines
		}
	}
	if suite == nil {
		t.Fatal("README.md has no ```yaml block that starts with # suite.yaml")
	}
	fixture := filepath.Join(root, readmeFixture)
	committed, err := os.ReadFile(filepath.Join(fixture, "suite.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(strings.Join(suite, "\n")+"\n", string(committed)); diff != "" {
		t.Errorf("%s/suite.yaml differs from README's suite.yaml (-README +file):\n%s", readmeFixture, diff)
	}
	var s struct {
		Tests []struct {
			Cases []struct {
				Name string `yaml:"name"`
			} `yaml:"cases"`
		} `yaml:"tests"`
	}
	if err := yaml.Unmarshal(committed, &s); err != nil {
		t.Fatal(err)
	}
	cases := 0
	for _, tc := range s.Tests {
		cases += len(tc.Cases)
	}
	t.Chdir(fixture)
	code, stdout, stderr := runCLI(t, "", "verify", "-o", "json", "suite.yaml")
	if code != exitOK {
		t.Fatalf("verdict verify suite.yaml: exit %d\n%s%s", code, stdout, stderr)
	}
	var report struct {
		Results []struct {
			Test, Case, Status string
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(stdout), &report); err != nil {
		t.Fatalf("verify -o json: %v\n%s", err, stdout)
	}
	if len(report.Results) != cases || cases == 0 {
		t.Errorf("verify ran %d cases, README's suite has %d", len(report.Results), cases)
	}
	for _, r := range report.Results {
		if r.Status != "pass" {
			t.Errorf("README's suite: %s/%s: %s", r.Test, r.Case, r.Status)
		}
	}
}
