package main

import (
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/verdict-dev/verdict/manifest"
	"github.com/verdict-dev/verdict/policies/audit"
	"github.com/verdict-dev/verdict/policies/check"
	"github.com/verdict-dev/verdict/policies/mutate"
	"github.com/verdict-dev/verdict/policies/verify"
	"github.com/verdict-dev/verdict/rbacsim"
)

// Shell completion: cobra's own `verdict completion bash|zsh|fish|powershell` command, with the values
// of verdict's flags and of the arguments of rbac can-i and who-can.

// outputFormats are the values of each command's -o, by command path.
var outputFormats = map[string][]string{
	"verdict check":   check.Formats,
	"verdict mutate":  mutate.Formats,
	"verdict verify":  verify.Formats,
	"verdict audit":   audit.Formats,
	"verdict version": {"text", "json"},
}

// operations are the values of --operation, by command path.
var operations = map[string][]string{
	"verdict check":  {"CREATE", "UPDATE", "DELETE"},
	"verdict mutate": {"CREATE", "UPDATE"},
}

// verbAndType are the commands whose arguments are VERB TYPE[/NAME].
var verbAndType = map[string]bool{"verdict rbac can-i": true, "verdict rbac who-can": true}

// registerCompletions gives every command's -o and --operation their values, and rbac can-i and
// who-can their VERB and TYPE. A command missing from outputFormats offers the formats its -o usage
// lists ("output format: table or json").
func registerCompletions(c *cobra.Command) {
	path := c.CommandPath()
	if verbAndType[path] && c.ValidArgsFunction == nil {
		c.ValidArgsFunction = completeVerbAndType
	}
	if f := c.Flags().Lookup("output"); f != nil {
		formats, ok := outputFormats[path]
		if !ok {
			formats = formatsOfUsage(f.Usage)
		}
		_ = c.RegisterFlagCompletionFunc("output", fixed(formats))
	}
	if ops, ok := operations[path]; ok && c.Flags().Lookup("operation") != nil {
		_ = c.RegisterFlagCompletionFunc("operation", fixed(ops))
	}
	if c.Flags().Lookup("filename") != nil {
		for flag, pick := range map[string]func(rbacsim.Names) []string{
			"namespace": func(n rbacsim.Names) []string { return n.Namespaces },
			"as":        func(n rbacsim.Names) []string { return n.Users },
			"as-group":  func(n rbacsim.Names) []string { return n.Groups },
		} {
			if c.Flags().Lookup(flag) != nil {
				_ = c.RegisterFlagCompletionFunc(flag, namesInInputs(pick))
			}
		}
	}
	for _, sub := range c.Commands() {
		registerCompletions(sub)
	}
}

// namesInInputs completes a flag with names found in the -f inputs given so far on the command line
// (namespaces, users, groups): unreadable inputs offer nothing rather than an error.
func namesInInputs(pick func(rbacsim.Names) []string) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(c *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
		paths, _ := c.Flags().GetStringArray("filename")
		var files []string
		for _, p := range paths {
			if p != "-" { // the shell's standard input is not the manifests
				files = append(files, p)
			}
		}
		if len(files) == 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return pick(rbacsim.NamesOf(manifest.Read(files, nil).Documents)), cobra.ShellCompDirectiveNoFileComp
	}
}

func fixed(values []string) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return values, cobra.ShellCompDirectiveNoFileComp
	}
}

// formatsOfUsage reads the formats out of a usage such as "output format: table|json|github" or
// "output format: table or json".
func formatsOfUsage(usage string) []string {
	_, list, ok := strings.Cut(usage, "output format: ")
	if !ok {
		return nil
	}
	list, _, _ = strings.Cut(list, " (")
	return strings.FieldsFunc(strings.ReplaceAll(list, " or ", "|"), func(r rune) bool { return r == '|' || r == ',' || r == ' ' })
}

// rbacVerbs are the verbs that RBAC rules name: the API's own, and those that only authorization
// checks ask for.
var rbacVerbs = []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection",
	"bind", "escalate", "impersonate", "approve", "sign", "use", "proxy", "*"}

// completeVerbAndType completes VERB and then TYPE of rbac can-i and who-can: each built-in resource
// of the current Kubernetes release, as kubectl names it (pods, deployments.apps).
func completeVerbAndType(_ *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	switch len(args) {
	case 0:
		return rbacVerbs, cobra.ShellCompDirectiveNoFileComp
	case 1:
		if strings.Contains(toComplete, "/") {
			return nil, cobra.ShellCompDirectiveNoFileComp // a name, or a non-resource URL
		}
		return resourceTypes(), cobra.ShellCompDirectiveNoFileComp
	}
	return nil, cobra.ShellCompDirectiveNoFileComp
}

// resourceTypes lists the built-in resources, resource[.group], once each and sorted.
func resourceTypes() []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range manifest.BuiltinAPIResources() {
		name := r.Resource
		if r.Group != "" {
			name += "." + r.Group
		}
		if !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}
