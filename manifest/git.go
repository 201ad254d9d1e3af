package manifest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"sort"
	"strconv"
	"strings"
)

// GitRevision splits a path argument "REF:PATH" into a revision of the Git repository of the current
// folder and a path in it, when REF names a commit there (git rev-parse --verify REF^{commit}), as
// `git show main:rbac/` reads it: "main:rbac/" is the folder rbac at the root of main's tree. A path
// that exists as written is not split, nor is one whose prefix is no commit (or when git is missing).
func GitRevision(arg string) (rev, pathInRev string, ok bool) {
	rev, pathInRev, found := strings.Cut(arg, ":")
	if !found || rev == "" || strings.HasPrefix(rev, "-") { // never an option of git
		return "", "", false
	}
	if _, err := os.Stat(arg); err == nil {
		return "", "", false
	}
	if err := exec.Command("git", "rev-parse", "--verify", "--quiet", rev+"^{commit}").Run(); err != nil {
		return "", "", false
	}
	return rev, pathInRev, true
}

// ReadGit reads the manifests at a path of a Git revision, as Read reads them from the working tree:
// a file as named, a folder walked for its *.yaml, *.yml and *.json files, hidden files, kustomize's
// and Helm's files and Helm chart folders skipped with a note. Documents are named "REV:PATH".
func ReadGit(rev, pathInRev string) *Set {
	spec := rev + ":" + pathInRev
	clean := strings.TrimSuffix(pathInRev, "/")
	typ, err := gitOutput(nil, "cat-file", "-t", rev+":"+clean)
	if err != nil {
		return &Set{Errors: []*Error{{File: spec, Err: fmt.Errorf("not in revision %s: %w", rev, err)}}}
	}
	switch strings.TrimSpace(string(typ)) {
	case "blob":
		return gitRead(rev, []File{{Path: clean, Explicit: true}})
	case "tree":
	default:
		return &Set{Errors: []*Error{{File: spec, Err: fmt.Errorf("a %s, not a file or folder", strings.TrimSpace(string(typ)))}}}
	}
	list, err := gitOutput(nil, "ls-tree", "-r", "-z", "--name-only", rev+":"+clean)
	if err != nil {
		return &Set{Errors: []*Error{{File: spec, Err: err}}}
	}
	var names []string
	for _, n := range strings.Split(string(list), "\x00") {
		if n != "" {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	charts := map[string]bool{}
	for _, n := range names {
		if path.Base(n) == "Chart.yaml" {
			charts[path.Dir(n)] = true
		}
	}
	join := func(n string) string {
		if clean == "" || clean == "." {
			return n
		}
		return clean + "/" + n
	}
	out := &Set{}
	noted := map[string]bool{}
	var files []File
	for _, n := range names {
		if chart := inChart(n, charts); chart != "" {
			if !noted[chart] {
				noted[chart] = true
				out.Notes = append(out.Notes, fmt.Sprintf("%s:%s: skipped, a Helm chart (render it with helm template and check the output)", rev, join(chart)))
			}
			continue
		}
		if hidden(n) {
			continue
		}
		if what, ok := notObjectFiles[strings.ToLower(path.Base(n))]; ok {
			out.Notes = append(out.Notes, fmt.Sprintf("%s:%s: skipped, %s", rev, join(n), what))
			continue
		}
		if IsManifestFile(n) {
			files = append(files, File{Path: join(n)})
		}
	}
	out.add(gitRead(rev, files))
	return out
}

// inChart returns the chart folder that holds the file n, or "".
func inChart(n string, charts map[string]bool) string {
	for dir := path.Dir(n); ; dir = path.Dir(dir) {
		if charts[dir] {
			return dir
		}
		if dir == "." || dir == "/" {
			return ""
		}
	}
}

func hidden(n string) bool {
	for _, part := range strings.Split(n, "/") {
		if strings.HasPrefix(part, ".") {
			return true
		}
	}
	return false
}

// gitRead reads files of a revision with one git cat-file --batch and decodes them.
func gitRead(rev string, files []File) *Set {
	out := &Set{}
	if len(files) == 0 {
		return out
	}
	var in bytes.Buffer
	for _, f := range files {
		in.WriteString(rev + ":" + f.Path + "\n")
	}
	data, err := gitOutput(&in, "cat-file", "--batch")
	if err != nil {
		return &Set{Errors: []*Error{{File: rev + ":", Err: err}}}
	}
	r := bufio.NewReader(bytes.NewReader(data))
	for _, f := range files {
		name := rev + ":" + f.Path
		header, err := r.ReadString('\n')
		if err != nil {
			out.Errors = append(out.Errors, &Error{File: name, Err: err})
			break
		}
		fields := strings.Fields(header)
		if len(fields) != 3 {
			out.Errors = append(out.Errors, &Error{File: name, Err: errors.New(strings.TrimSpace(header))})
			continue
		}
		size, err := strconv.Atoi(fields[2])
		if err != nil || size > MaxFileBytes {
			out.Errors = append(out.Errors, &Error{File: name, Err: fmt.Errorf("a %s of %s bytes", fields[1], fields[2])})
			break
		}
		content := make([]byte, size+1) // and the newline after it
		if _, err := io.ReadFull(r, content); err != nil {
			out.Errors = append(out.Errors, &Error{File: name, Err: err})
			break
		}
		s := Decode(name, content[:size])
		if !f.Explicit {
			s.skipNotObjects()
		}
		out.add(s)
	}
	return out
}

// gitOutput runs git in the current folder and returns its output; stderr becomes the error.
func gitOutput(stdin io.Reader, args ...string) ([]byte, error) {
	cmd := exec.Command("git", args...)
	cmd.Stdin = stdin
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return nil, fmt.Errorf("git %s: %s", args[0], msg)
		}
		return nil, fmt.Errorf("git %s: %w", args[0], err)
	}
	return out, nil
}
