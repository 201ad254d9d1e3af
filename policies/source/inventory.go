package source

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/verdict-dev/verdict/manifest"
)

// inventory is what the policy paths held when a set was read: each policy file, by the name it has
// under the path as given (so that a symlink pointed elsewhere does not rename every file), with a
// digest of its contents and whether it holds anything; and the Rego packages they declare. A reload
// is checked against the inventory of the set in force, so that a file caught half-way through an
// update (deleted before its new copy is written, truncated before it is written again) never
// weakens the set in force.
type inventory struct {
	// resolved are the paths to read: a folder's symlinks resolved, since manifest.Walk does not
	// follow a symlinked root, and files as given (a ConfigMap's file symlinks point into a
	// timestamped folder that the next update removes).
	resolved []string
	files    map[string]inventoryFile
	packages map[string]string // Rego package → the file that declares it
}

type inventoryFile struct {
	digest [sha256.Size]byte
	empty  bool // no document, or a Rego file without a package
}

// takeInventory reads the policy files of paths.
func takeInventory(paths []string) (*inventory, error) {
	inv := &inventory{files: map[string]inventoryFile{}, packages: map[string]string{}}
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !info.IsDir() {
			inv.resolved = append(inv.resolved, p)
			if err := inv.add(p, p); err != nil {
				return nil, err
			}
			continue
		}
		root, err := filepath.EvalSymlinks(p)
		if err != nil {
			return nil, err
		}
		inv.resolved = append(inv.resolved, root)
		files, _, err := manifest.Walk(root, isPolicyFile)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			rel, err := filepath.Rel(root, f)
			if err != nil {
				return nil, err
			}
			if err := inv.add(filepath.Join(p, rel), f); err != nil {
				return nil, err
			}
		}
	}
	return inv, nil
}

// add reads the file at path, known as name.
func (inv *inventory) add(name, path string) error {
	data, err := manifest.ReadBytes(path, nil) // never blocks on a FIFO, never reads a device
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	f := inventoryFile{digest: sha256.Sum256(data)}
	if isRego(path) {
		pkg := regoPackage(data)
		f.empty = pkg == ""
		if pkg != "" {
			inv.packages[pkg] = name
		}
	} else {
		// A document that does not decode is left to the compiler to report.
		set := manifest.Decode(path, data)
		f.empty = len(set.Errors) == 0 && len(set.Documents) == 0
	}
	inv.files[name] = f
	return nil
}

// same reports whether two inventories read the same contents.
func (inv *inventory) same(other *inventory) bool {
	return slices.Equal(inv.resolved, other.resolved) && maps.Equal(inv.files, other.files)
}

// lost says what of the set in force (was) the inventory no longer holds: files gone or emptied,
// Rego packages gone. Empty when nothing is lost.
func (inv *inventory) lost(was *inventory) string {
	var gone []string
	for _, name := range slices.Sorted(maps.Keys(was.files)) {
		if was.files[name].empty {
			continue
		}
		f, ok := inv.files[name]
		switch {
		case !ok:
			gone = append(gone, "file "+name+" is gone")
		case f.empty:
			gone = append(gone, "file "+name+" is empty")
		}
	}
	for _, pkg := range slices.Sorted(maps.Keys(was.packages)) {
		if _, ok := inv.packages[pkg]; !ok {
			gone = append(gone, fmt.Sprintf("Rego package %s (of %s) is gone", pkg, was.packages[pkg]))
		}
	}
	return strings.Join(gone, "; ")
}

// regoPackage returns the package a Rego module declares: the first statement of a module is its
// package clause, after comments and blank lines. A parse is left to the compiler.
func regoPackage(src []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(src))
	sc.Buffer(nil, len(src)+1)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if rest, ok := strings.CutPrefix(line, "package"); ok && rest != "" && (rest[0] == ' ' || rest[0] == '\t') {
			return strings.TrimSpace(strings.SplitN(strings.TrimSpace(rest), "#", 2)[0])
		}
		return ""
	}
	return ""
}

// resolveRoot resolves the symlinks of a folder path, which manifest.Walk would not follow; other
// paths are returned as they are.
func resolveRoot(p string) string {
	if info, err := os.Stat(p); err == nil && info.IsDir() {
		if root, err := filepath.EvalSymlinks(p); err == nil {
			return root
		}
	}
	return p
}

// isPolicyFile and isRego say which files the bundle reads as policies, as it does.
func isPolicyFile(p string) bool { return manifest.IsManifestFile(p) || isRego(p) }

func isRego(p string) bool { return strings.EqualFold(filepath.Ext(p), ".rego") }
