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
