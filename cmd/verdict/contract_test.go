package main

import (
	"io"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// flagToken is a flag in a synopsis line: -o, --output.
var flagToken = regexp.MustCompile(`(?:^|[\s\[(|])(--?[a-zA-Z][a-zA-Z0-9-]*)`)

// contractSynopsis is the first code block of docs/contract.md, one command line a line (a line that
// starts with a space continues the one before).
func contractSynopsis(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile("../../docs/contract.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(data), "\n```\n")
	block, _, closed := strings.Cut(rest, "\n```\n")
	if !ok || !closed {
		t.Fatal("docs/contract.md has no synopsis: a ``` block of verdict command lines")
	}
	var lines []string
	for _, l := range strings.Split(block, "\n") {
		if strings.HasPrefix(l, " ") && len(lines) > 0 {
			lines[len(lines)-1] += " " + strings.TrimSpace(l)
			continue
		}
		lines = append(lines, l)
	}
	return lines
}

// TestContractSynopsis keeps docs/contract.md's synopsis true to the commands: a line for every
// command, every flag of every command in its lines, and no flag a command does not have.
func TestContractSynopsis(t *testing.T) {
	root := newRootCmd(IOStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: io.Discard})
	root.InitDefaultCompletionCmd()
	root.InitDefaultVersionFlag()
	documented := map[*cobra.Command]map[string]bool{}
	for _, line := range contractSynopsis(t) {
		words := strings.Fields(line)
		if len(words) == 0 || words[0] != "verdict" {
			t.Errorf("docs/contract.md synopsis: %q: want a line that starts with verdict", line)
			continue
		}
		// The command path: words that name subcommands; a|b|c names several.
		cmds := []*cobra.Command{root}
		for _, w := range words[1:] {
			var next []*cobra.Command
			for _, c := range cmds {
				for _, name := range strings.Split(w, "|") {
					if sub := subcommand(c, name); sub != nil {
						next = append(next, sub)
					}
				}
			}
			if len(next) == 0 {
				break
			}
			cmds = next
		}
		for _, c := range cmds {
			if documented[c] == nil {
				documented[c] = map[string]bool{}
			}
			for _, m := range flagToken.FindAllStringSubmatch(line, -1) {
				f := lookupFlag(c, m[1])
				if f == nil {
					t.Errorf("docs/contract.md synopsis: %s has no flag %s", c.CommandPath(), m[1])
					continue
				}
				documented[c][f.Name] = true
			}
		}
	}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			if sub.IsAvailableCommand() {
				walk(sub)
			}
		}
		if c.HasAvailableSubCommands() {
			return
		}
		flags, ok := documented[c]
		if !ok {
			t.Errorf("docs/contract.md synopsis has no line for %s: add one, and its section", c.CommandPath())
			return
		}
		var missing []string
		c.Flags().VisitAll(func(f *pflag.Flag) {
			if f.Name != "help" && !f.Hidden && !flags[f.Name] {
				missing = append(missing, "--"+f.Name)
			}
		})
		sort.Strings(missing)
		if len(missing) > 0 {
			t.Errorf("docs/contract.md synopsis does not give %s its flags %s", c.CommandPath(), strings.Join(missing, ", "))
		}
	}
	walk(root)
}

func subcommand(c *cobra.Command, name string) *cobra.Command {
	for _, sub := range c.Commands() {
		if sub.Name() == name && sub.IsAvailableCommand() {
			return sub
		}
	}
	return nil
}

func lookupFlag(c *cobra.Command, tok string) *pflag.Flag {
	if name, ok := strings.CutPrefix(tok, "--"); ok {
		return c.Flags().Lookup(name)
	}
	return c.Flags().ShorthandLookup(strings.TrimPrefix(tok, "-"))
}
