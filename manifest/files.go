package manifest

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Stdin is the path that names standard input.
const Stdin = "-"

// MaxFileBytes bounds one file (or standard input). The API server refuses requests over 3 MiB;
// manifests in CI are read whole, so the bound is generous, but it is checked while reading, so that
// /dev/zero or a runaway generator cannot exhaust memory.
const MaxFileBytes = 64 << 20

// File is one file to read, and whether the user named it or a folder walk found it: a file found by
// a walk may be skipped when it holds no Kubernetes object, a file named explicitly may not.
type File struct {
	Path     string
	Explicit bool
}

// IsManifestFile reports whether a file found in a folder is read as a manifest.
func IsManifestFile(path string) bool {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return false
}

// notObjectFiles are files of tools that live beside manifests and are not Kubernetes objects.
var notObjectFiles = map[string]string{
	"kustomization.yaml": "a kustomize file", "kustomization.yml": "a kustomize file", "kustomization": "a kustomize file",
	"chart.yaml": "a Helm chart's metadata", "chart.lock": "a Helm chart's lock file",
	"values.yaml": "Helm values", "values.yml": "Helm values", "values.schema.json": "a Helm values schema",
}

// Files expands paths into the files to read: a file as given, a folder walked recursively for the
// files that match (see Walk), "-" as itself. Notes say what a walk skipped.
func Files(paths []string, match func(string) bool) (files []File, notes []string, err error) {
	var errs []error
	for _, p := range paths {
		if p == Stdin {
			files = append(files, File{Path: p, Explicit: true})
			continue
		}
		info, err := os.Stat(p) // follows a symlink, so that a linked folder is walked
		if err != nil {
			errs = append(errs, fileError(p, err))
			continue
		}
		if !info.IsDir() {
			files = append(files, File{Path: p, Explicit: true})
			continue
		}
		found, skipped, err := Walk(p, match)
		if err != nil {
			errs = append(errs, fileError(p, err))
			continue
		}
		notes = append(notes, skipped...)
		for _, f := range found {
			files = append(files, File{Path: f})
		}
	}
	return files, notes, errors.Join(errs...)
}

// fileError is an error about a whole file or folder, its path named once.
func fileError(path string, err error) *Error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		path, err = pe.Path, pe.Err
	}
	return &Error{File: path, Err: err}
}

// Walk returns the files under dir for which match is true, sorted. A symlinked dir is followed.
// Hidden files and folders (names starting with a dot, such as the "..data" folder of a mounted
// ConfigMap, whose files are reached through the links beside it) are skipped, as are the files of
// kustomize and Helm (kustomization.yaml, Chart.yaml, values.yaml) and whole Helm chart folders, whose
// templates are not manifests until rendered; each skipped file or chart is named in a note.
func Walk(dir string, match func(string) bool) (found, notes []string, err error) {
	return walk(dir, match, map[string]bool{})
}

// walk is Walk with the folders already walked, so that a link cycle ends.
func walk(dir string, match func(string) bool, visited map[string]bool) (found, notes []string, err error) {
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return nil, nil, err
	}
	if visited[root] {
		return nil, nil, nil
	}
	visited[root] = true
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		shown := filepath.Join(dir, strings.TrimPrefix(path, root)) // the user's path, not the link's target
		if path != root && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if _, err := os.Stat(filepath.Join(path, "Chart.yaml")); err == nil {
				notes = append(notes, fmt.Sprintf("%s: skipped, a Helm chart (render it with helm template and check the output)", shown))
				return filepath.SkipDir
			}
			return nil
		}
		if what, ok := notObjectFiles[strings.ToLower(d.Name())]; ok {
			notes = append(notes, fmt.Sprintf("%s: skipped, %s", shown, what))
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 {
			// A link to a file (the ConfigMap mount's files are links into ..data) is read; a link to a
			// folder is followed as a folder.
			info, err := os.Stat(path)
			if err != nil {
				return err
			}
			if info.IsDir() {
				sub, subNotes, err := walk(shown, match, visited)
				if err != nil {
					return err
				}
				found = append(found, sub...)
				notes = append(notes, subNotes...)
				return nil
			}
		}
		if match(path) {
			found = append(found, shown)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	sort.Strings(found)
	return found, notes, nil
}

// ReadBytes reads a whole file (or stdin for "-") of at most MaxFileBytes. Only regular files are
// read: a FIFO would block, a device could be endless, so both are refused before any read.
func ReadBytes(path string, stdin io.Reader) ([]byte, error) {
	if path == Stdin {
		if stdin == nil {
			return nil, errors.New("standard input is not available")
		}
		return readLimited(stdin, -1)
	}
	// Stat before opening: opening a FIFO blocks until something writes to it.
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("not a regular file (%s): only files and folders are read", fileType(info.Mode()))
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if info, err = f.Stat(); err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() { // replaced between the two looks
		return nil, fmt.Errorf("not a regular file (%s): only files and folders are read", fileType(info.Mode()))
	}
	return readLimited(f, info.Size())
}

// readLimited reads r to its end, failing once it passes MaxFileBytes; size, when known, sizes the
// buffer at once.
func readLimited(r io.Reader, size int64) ([]byte, error) {
	if size > MaxFileBytes {
		return nil, fmt.Errorf("the file is %d bytes, over the limit of %d", size, MaxFileBytes)
	}
	buf := make([]byte, 0, max(size+1, 512))
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if len(buf) > MaxFileBytes {
			return nil, fmt.Errorf("the input is over the limit of %d bytes", MaxFileBytes)
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

func fileType(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0, m&fs.ModeCharDevice != 0:
		return "a device"
	}
	return m.Type().String()
}
