package rbacsim

import "github.com/verdict-dev/verdict/manifest"

// ReadGit reads the RBAC objects at a path of a Git revision of the current repository (see
// manifest.ReadGit), as ReadPaths reads them from files.
func ReadGit(rev, pathInRev string) (*Objects, error) {
	return fromSet(manifest.ReadGit(rev, pathInRev))
}
