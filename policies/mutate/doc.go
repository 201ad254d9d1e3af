// Package mutate runs the mutating policies of a bundle over manifest files, as `verdict mutate`
// does, and prints the objects as the cluster would store them: YAML documents, a JSON List, or a
// unified diff for review in CI.
package mutate
