// Package yamlsubset decodes the plain subset of YAML that Kubernetes manifests are almost always
// written in (block mappings and sequences, one-line flow collections, plain and quoted one-line
// scalars, comments) straight into the values encoding/json would give: map[string]any, []any,
// string, int64, bool and nil.
//
// It exists for speed: go-yaml builds a token stream, an event stream and a generic tree, and
// sigs.k8s.io/yaml then writes JSON that is parsed again; for a repository of manifests that is most
// of the time verdict spends. Decode never guesses: anything outside the subset (anchors, tags,
// block scalars, multi-line scalars, floats, YAML 1.1 booleans such as "yes", duplicate keys, tabs,
// carriage returns) makes it answer false, and the caller decodes the document with
// sigs.k8s.io/yaml as before, errors included. Where it answers true, the value equals
// sigs.k8s.io/yaml's YAMLToJSON followed by apimachinery's JSON decoding, which the package's
// differential and fuzz tests check against go-yaml itself.
package yamlsubset
