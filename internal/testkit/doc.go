// Package testkit holds the helpers that verdict's tests share: golden files with the one -update
// flag of every test binary that imports it, a free loopback address, waiting for a condition,
// writing a file, and a line diff for failure messages. It is for tests only (it imports testing and
// declares a flag); nothing outside _test.go files imports it.
package testkit
