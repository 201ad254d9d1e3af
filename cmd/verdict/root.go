package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// IOStreams are the streams a command reads and writes, so that commands run in tests without a process.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
}

func defaultStreams() IOStreams {
	return IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
}

// Exit codes shared by the commands, as docs/contract.md fixes them.
const (
	exitOK       = 0
	exitFindings = 1 // a policy denied, a check or test failed, can-i said no
	exitBadInput = 2 // bad input, bad policy, bad flags
)

// exitError carries an exit code through cobra's error return. A nil err with a non-zero code is a
// normal outcome (a denial) that has already been reported.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// withCode wraps err with an exit code; withCode(code, nil) reports an outcome that was already printed.
func withCode(code int, err error) error { return &exitError{code: code, err: err} }

func newRootCmd(streams IOStreams) *cobra.Command {
	// The root's persistent hook runs for every command, the rbac group's after it.
	cobra.EnableTraverseRunHooks = true
	root := &cobra.Command{
		Use:              "verdict",
		Short:            "Kubernetes admission policies in CI and in the cluster, and an offline RBAC simulator",
		SilenceUsage:     true,
		SilenceErrors:    true,
		PersistentPreRun: func(cmd *cobra.Command, _ []string) { tuneGC(cmd) },
	}
	// --version prints what `verdict version` prints.
	v := currentVersion()
	root.Version = v.Version
	root.SetVersionTemplate(v.text())
	root.SetIn(streams.In)
	root.SetOut(streams.Out)
	root.SetErr(streams.ErrOut)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		//lint:ignore ST1005 kubectl's wording: the hint is a sentence of its own on the next line
		return withCode(exitBadInput, fmt.Errorf("%w\nSee '%s --help'.", err, c.CommandPath()))
	})
	root.AddCommand(subcommands(streams)...)
	registerCompletions(root)
	return root
}

// run executes the command line and returns the process exit code.
func run(args []string, streams IOStreams) int {
	root := newRootCmd(streams)
	root.SetArgs(args)
	// Every command runs under one context that an interrupt or SIGTERM cancels: serve shuts down,
	// a long check or audit stops.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(streams.ErrOut, "error:", ee.err)
		}
		return ee.code
	}
	// Unknown commands, bad arguments and the like from cobra itself.
	fmt.Fprintln(streams.ErrOut, "error:", err)
	return exitBadInput
}
