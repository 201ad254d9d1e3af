// Package junit is the part of the JUnit XML report format that verdict's CI reports write (check,
// simulate, verify), as GitLab, Jenkins and the test-report actions read it: test suites of test
// cases, each failed, errored or skipped, with its output. It holds the types and their writer, not
// what a report puts in them: each command decides what a test case is.
package junit
