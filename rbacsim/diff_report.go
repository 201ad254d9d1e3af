package rbacsim

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/verdict-dev/verdict/internal/jsonout"
	"github.com/verdict-dev/verdict/internal/sarif"
)

// DiffFormats are the output formats of WriteDiff.
var DiffFormats = []string{"table", "json", "github", "sarif"}

// WriteDiff prints changes as a table, JSON ({"changes":[...]}), GitHub workflow annotations or SARIF.
// file maps a change's location to the path the annotation names (a repository path); a change whose
// path is empty or "-" gets no file.
func WriteDiff(w io.Writer, format string, changes []Change, file func(*Change) string) error {
	if file == nil {
		file = func(c *Change) string { return c.Location.File }
	}
	switch format {
	case "json":
		return jsonout.Compact(w, struct {
			Changes []Change `json:"changes"`
		}{Changes: append([]Change{}, changes...)})
	case "github":
		return writeDiffGitHub(w, changes, file)
	case "sarif":
		return jsonout.Compact(w, diffSARIF(changes, file))
	case "table", "":
		return writeDiffTable(w, changes)
	}
	return fmt.Errorf("unknown output format %q: use one of %s", format, strings.Join(DiffFormats, ", "))
}

// What names the rule of a change: "get,list secrets", "get pods/log [web]", "get /healthz",
// "create deployments.apps".
func (c *Change) What() string {
	s := strings.Join(c.Verbs, ",") + " " + c.Target()
	if len(c.ResourceNames) > 0 {
		s += " [" + strings.Join(c.ResourceNames, ",") + "]"
	}
	return s
}

// Target is the resource as kubectl names it ("deployments.apps/scale", "pods") or the URL.
func (c *Change) Target() string {
	if len(c.NonResourceURLs) > 0 {
		return strings.Join(c.NonResourceURLs, ",")
	}
	res, sub, hasSub := strings.Cut(strings.Join(c.Resources, ","), "/")
	if g := strings.Join(c.APIGroups, ","); g != "" {
		res += "." + g
	}
	if hasSub {
		res += "/" + sub
	}
	return res
}

// Where is "in namespace team-a" or "cluster-wide".
func (c *Change) Where() string {
	if c.Namespace == "" {
		return "cluster-wide"
	}
	return "in namespace " + c.Namespace
}

// Sentence is the change in one line: "User alice gains get secrets in namespace team-a (risky), via ...".
func (c *Change) Sentence() string {
	verb := "gains"
	if c.Change == Removed {
		verb = "loses"
	}
	risky := ""
	if c.Risky {
		risky = " (risky)"
	}
	return fmt.Sprintf("%s %s %s %s%s, via %s", c.Subject, verb, c.What(), c.Where(), risky, c.Via)
}

func writeDiffTable(w io.Writer, changes []Change) error {
	if len(changes) == 0 {
		_, err := fmt.Fprintln(w, "no permission changes")
		return err
	}
	tw := tabwriter.NewWriter(w, 6, 4, 3, ' ', 0)
	fmt.Fprintln(tw, "CHANGE\tSUBJECT\tNAMESPACE\tVERBS\tRESOURCE\tRESOURCE NAMES\tRISKY\tVIA")
	added, removed, risky := 0, 0, 0
	for i := range changes {
		c := &changes[i]
		sign := "+"
		if c.Change == Removed {
			sign = "-"
			removed++
		} else {
			added++
		}
		res := c.Target()
		ns := c.Namespace
		if ns == "" {
			ns = "*"
		}
		flag := ""
		if c.Risky {
			flag = "RISKY"
			risky++
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", sign, c.Subject, ns, strings.Join(c.Verbs, ","), res,
			strings.Join(c.ResourceNames, ","), flag, c.Via)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "%d added (%d risky), %d removed\n", added, risky, removed)
	return err
}

// GitHub workflow commands, escaped as GitHub's actions/toolkit escapes them.
func writeDiffGitHub(w io.Writer, changes []Change, file func(*Change) string) error {
	for i := range changes {
		c := &changes[i]
		level, title := "notice", "RBAC permission removed"
		switch {
		case c.Risky:
			level, title = "warning", "risky RBAC permission added"
		case c.Change == Added:
			title = "RBAC permission added"
		}
		props := ""
		if f := file(c); f != "" && f != "-" {
			props = "file=" + ghProperty(f) + ","
			if c.Location.Line > 0 {
				props += fmt.Sprintf("line=%d,", c.Location.Line)
			}
		}
		props += "title=" + ghProperty(title)
		if _, err := fmt.Fprintf(w, "::%s %s::%s\n", level, props, ghData(c.Sentence())); err != nil {
			return err
		}
	}
	return nil
}

func ghData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

func ghProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}

// The SARIF rules of a diff.
var diffSarifRules = []sarif.Rule{
	{ID: "verdict/rbac-added", ShortDescription: sarif.Message{Text: "a subject gains an RBAC permission"}},
	{ID: "verdict/rbac-added-risky", ShortDescription: sarif.Message{Text: "a subject gains an RBAC permission that reaches further permissions"}},
	{ID: "verdict/rbac-removed", ShortDescription: sarif.Message{Text: "a subject loses an RBAC permission"}},
}

func diffSARIF(changes []Change, file func(*Change) string) sarif.Log {
	run := sarif.NewRun()
	run.Tool.Driver.Rules = diffSarifRules
	for i := range changes {
		c := &changes[i]
		res := sarif.Result{RuleID: "verdict/rbac-removed", Level: "note", Message: sarif.Message{Text: c.Sentence()}, Locations: sarif.Locations(file(c), c.Location.Line, 0)}
		switch {
		case c.Risky:
			res.RuleID, res.Level = "verdict/rbac-added-risky", "warning"
		case c.Change == Added:
			res.RuleID = "verdict/rbac-added"
		}
		run.Results = append(run.Results, res)
	}
	return sarif.Log{Schema: sarif.Schema, Version: sarif.Version, Runs: []sarif.Run{run}}
}
