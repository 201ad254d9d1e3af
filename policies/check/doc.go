// Package check runs a policy bundle over manifest files, as `verdict check` does in CI, and writes
// the findings as a table, JSON, YAML, JUnit XML, SARIF 2.1.0 or GitHub workflow annotations.
package check
