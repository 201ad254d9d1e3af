package verify

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	yamlv3 "go.yaml.in/yaml/v3"
	"sigs.k8s.io/yaml"

	"github.com/verdict-dev/verdict/manifest"
)

// The suite formats verdict reads.
const (
	// GatekeeperGroup is the API group of gator's Suite files.
	GatekeeperGroup = "test.gatekeeper.sh"
	// VerdictAPIVersion is the apiVersion of verdict's own Suite files.
	VerdictAPIVersion = "verdict.dev/v1alpha1"
	// KindSuite is the kind of both.
	KindSuite = "Suite"
)

// SuiteFileName is the name of the files a folder argument is searched for.
const SuiteFileName = "suite.yaml"

// Files expands the arguments into suite files: a file as given; a folder searched recursively for
// files named suite.yaml (or suite.yml); DIR/... searched recursively, as gator does, for every YAML
// file that is a Suite. Hidden folders are skipped. The result is sorted within each argument.
func Files(args []string) ([]string, error) {
	var out []string
	for _, arg := range args {
		dir, recursive := strings.CutSuffix(arg, "/...")
		if recursive && dir == "" {
			dir = "."
		}
		info, err := os.Stat(dir)
		if err != nil {
			return nil, err
		}
		if !info.IsDir() {
			if recursive {
				return nil, fmt.Errorf("%s: can only recursively traverse directories, %q is not a directory", arg, dir)
			}
			out = append(out, arg)
			continue
		}
		found, _, err := manifest.Walk(dir, func(p string) bool {
			name := filepath.Base(p)
			if !recursive {
				return name == SuiteFileName || name == "suite.yml"
			}
			return (strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml")) && isSuiteFile(p)
		})
		if err != nil {
			return nil, err
		}
		out = append(out, found...)
	}
	return out, nil
}

var kindSuite = regexp.MustCompile(`(?m)^kind:\s*["']?Suite["']?\s*$`)

// isSuiteFile reports whether a YAML file found by DIR/... is a suite: gator ignores YAML files of
// other kinds. Files that do not even mention the kind are not parsed.
func isSuiteFile(path string) bool {
	data, err := os.ReadFile(path)
	if err != nil || !kindSuite.Match(data) {
		return err != nil // an unreadable file is reported when it is read
	}
	var head struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	if err := yaml.Unmarshal(data, &head); err != nil {
		return true // a broken suite is reported, not skipped
	}
	return head.Kind == KindSuite && (strings.HasPrefix(head.APIVersion, GatekeeperGroup+"/") || head.APIVersion == VerdictAPIVersion)
}

// gatorSuite is a Gatekeeper Suite file (test.gatekeeper.sh/v1alpha1).
type gatorSuite struct {
	APIVersion string         `json:"apiVersion"`
	Kind       string         `json:"kind"`
	Metadata   map[string]any `json:"metadata"`
	Tests      []gatorTest    `json:"tests"`
	Skip       bool           `json:"skip"`
}

type gatorTest struct {
	Name       string      `json:"name"`
	Template   string      `json:"template"`
	Constraint string      `json:"constraint"`
	Cases      []gatorCase `json:"cases"`
	Invalid    bool        `json:"invalid"`
	Skip       bool        `json:"skip"`
}

type gatorCase struct {
	Name       string      `json:"name"`
	Object     string      `json:"object"`
	Inventory  []string    `json:"inventory"`
	Assertions []assertion `json:"assertions"`
	Skip       bool        `json:"skip"`
}

// suiteHeader is what tells the formats apart.
type suiteHeader struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
}

// readSuiteFile reads a suite file and says which format it is.
func readSuiteFile(path string) ([]byte, suiteHeader, error) {
	var h suiteHeader
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, h, err
	}
	if err := yaml.Unmarshal(data, &h); err != nil {
		return nil, h, fmt.Errorf("invalid YAML: %w", err)
	}
	if h.Kind != KindSuite || !(strings.HasPrefix(h.APIVersion, GatekeeperGroup+"/") || h.APIVersion == VerdictAPIVersion) {
		return nil, h, fmt.Errorf("not a suite: want kind Suite of %s/v1alpha1 or %s, got kind %q of %q",
			GatekeeperGroup, VerdictAPIVersion, h.Kind, h.APIVersion)
	}
	return data, h, nil
}

// decodeStrict decodes YAML into v, refusing fields v does not have, so that a misspelt field is an
// error and not an assertion silently skipped. It reads YAML 1.2, as gator does: an unquoted yes or no
// is a string (a case named no, violations: yes).
func decodeStrict(data []byte, v any) error {
	var doc any
	if err := yamlv3.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("invalid YAML: %w", err)
	}
	js, err := json.Marshal(doc)
	if err != nil {
		return fmt.Errorf("invalid YAML: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errors.New(strings.TrimPrefix(err.Error(), "json: "))
	}
	return nil
}
