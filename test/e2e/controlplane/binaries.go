package controlplane

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// modulePath is the main module, whose root holds bin/k8s.
const modulePath = "github.com/verdict-dev/verdict"

// binaries are the executables envtest starts, as `make controlplane` names them.
var binaries = []string{"kube-apiserver", "etcd"}

// binaryDir is KUBEBUILDER_ASSETS when set (envtest reads it first too), and
// otherwise bin/k8s at the root of the main module.
func binaryDir() (string, error) {
	if dir := os.Getenv("KUBEBUILDER_ASSETS"); dir != "" {
		return dir, nil
	}
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, "bin", "k8s"), nil
}

// missingBinaries names the binaries that dir lacks.
func missingBinaries(dir string) []string {
	var missing []string
	for _, name := range binaries {
		if info, err := os.Stat(filepath.Join(dir, name)); err != nil || info.IsDir() {
			missing = append(missing, name)
		}
	}
	return missing
}

// moduleRoot walks up from the working directory (a test's package folder) to
// the folder whose go.mod declares the main module. It skips the go.mod files of
// nested modules, such as the control plane's tools modules.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		path, err := declaredModule(filepath.Join(dir, "go.mod"))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return "", err
		}
		if path == modulePath {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod of module %s above the working directory", modulePath)
		}
		dir = parent
	}
}

// declaredModule returns the module path that the go.mod file at path declares.
func declaredModule(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(scanner.Text()), "module "); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`), nil
		}
	}
	return "", scanner.Err()
}

// inCI reports whether CI is set to a true value, as CI systems set it.
func inCI() bool {
	ci, err := strconv.ParseBool(os.Getenv("CI"))
	return err == nil && ci
}
