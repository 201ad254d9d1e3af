// Package manifest reads Kubernetes manifests from files, folders and standard input: multi-document
// YAML, JSON and List kinds, each object tagged with the file and document it came from. It also knows
// the scope and resource of every built-in kind and of the CustomResourceDefinitions it is given, so
// that an object can be presented to policies as the API server would present it.
package manifest
