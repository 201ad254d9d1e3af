package main

import "github.com/spf13/cobra"

// subcommands lists every top-level command. Each lives in its own file as newXxxCmd(streams).
func subcommands(streams IOStreams) []*cobra.Command {
	return []*cobra.Command{
		newCheckCmd(streams),
		newMutateCmd(streams),
		newServeCmd(streams),
		newVersionCmd(streams),
		newRBACCmd(streams),
		newSimulateCmd(streams),
		newVerifyCmd(streams),
		newAuditCmd(streams),
	}
}

// completeValidate runs the Complete and Validate steps of a command (kubectl's pattern); their
// errors are bad input, exit 2.
func completeValidate(complete, validate func() error) error {
	if err := complete(); err != nil {
		return withCode(exitBadInput, err)
	}
	if err := validate(); err != nil {
		return withCode(exitBadInput, err)
	}
	return nil
}
