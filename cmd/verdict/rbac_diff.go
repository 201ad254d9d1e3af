package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/verdict-dev/verdict/internal/gctune"
	"github.com/verdict-dev/verdict/manifest"
	"github.com/verdict-dev/verdict/rbacsim"
)

type rbacDiffOptions struct {
	Old, New     string
	WithDefaults bool
	Output       string
	FailOn       string
	streams      IOStreams
	// revs are the Git revisions of the sides read from one ("main" for main:rbac/), "" for files.
	oldRev, newRev string
}

func newRBACDiffCmd(streams IOStreams) *cobra.Command {
	o := &rbacDiffOptions{streams: streams}
	cmd := &cobra.Command{
		Use:   "diff OLD NEW",
		Short: "Show the permissions each subject gains and loses between two sets of RBAC objects",
		Long: "Compares two sets of RBAC objects (files, folders, - for standard input, or REV:PATH for a path of a\n" +
			"Git revision of the current repository) and prints, per subject and namespace, the rules gained and\n" +
			"lost, broken down as the API server breaks rules down, each with the binding and role that grant it.\n" +
			"Gains that reach further permissions are marked risky.",
		Example: `  verdict rbac diff old/ new/
  verdict rbac diff main:rbac/ rbac/ -o github --fail-on risky
  kustomize build overlays/prod | verdict rbac diff origin/main:rendered/prod.yaml - -o json`,
		RunE: func(c *cobra.Command, args []string) error {
			if err := completeValidate(func() error { return o.Complete(args) }, o.Validate); err != nil {
				return err
			}
			return o.Run()
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.WithDefaults, "with-defaults", false, "add the default ClusterRoles and bindings of a new cluster to both sides")
	f.StringVarP(&o.Output, "output", "o", "table", "output format: "+strings.Join(rbacsim.DiffFormats, ", "))
	f.StringVar(&o.FailOn, "fail-on", "", "exit 1 when a risky permission is added (risky) or when anything changes (any)")
	return cmd
}

func (o *rbacDiffOptions) Complete(args []string) error {
	if len(args) != 2 {
		return errors.New("expected two arguments: OLD NEW (files, folders, - or REV:PATH)")
	}
	o.Old, o.New = args[0], args[1]
	return nil
}

func (o *rbacDiffOptions) Validate() error {
	if o.Old == manifest.Stdin && o.New == manifest.Stdin {
		return errors.New("only one side can be read from standard input")
	}
	if !slices.Contains(rbacsim.DiffFormats, o.Output) {
		return fmt.Errorf("unknown output format %q: use one of %s", o.Output, strings.Join(rbacsim.DiffFormats, ", "))
	}
	if o.FailOn != "" && o.FailOn != "risky" && o.FailOn != "any" {
		return fmt.Errorf("unknown --fail-on %q: use risky or any", o.FailOn)
	}
	return nil
}

// side reads one side into a model; rev is the Git revision it was read from, or "".
func (o *rbacDiffOptions) side(arg, label string) (*rbacsim.Model, string, error) {
	objs := &rbacsim.Objects{Sources: map[any]rbacsim.Source{}}
	if o.WithDefaults {
		defaults, err := rbacsim.DefaultObjects()
		if err != nil {
			return nil, "", err
		}
		objs.Append(defaults)
	}
	var read *rbacsim.Objects
	var err error
	rev, pathInRev, isRev := manifest.GitRevision(arg)
	if isRev {
		read, err = rbacsim.ReadGit(rev, pathInRev)
	} else {
		read, err = rbacsim.ReadPaths([]string{arg}, o.streams.In)
	}
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", label, err)
	}
	objs.Append(read)
	return rbacsim.NewModel(objs), rev, nil
}

func (o *rbacDiffOptions) Run() error {
	// The two sides are read at once: each is read on every core, but building a model is serial.
	var oldModel, newModel *rbacsim.Model
	var oldRev, newRev string
	var oldErr, newErr error
	var wg sync.WaitGroup
	resume := gctune.Pause() // the models keep what loading allocates (see gctune.Pause)
	wg.Go(func() { oldModel, oldRev, oldErr = o.side(o.Old, "OLD") })
	newModel, newRev, newErr = o.side(o.New, "NEW")
	wg.Wait()
	resume()
	if err := errors.Join(oldErr, newErr); err != nil {
		return withCode(exitBadInput, err)
	}
	for _, side := range []struct {
		label string
		model *rbacsim.Model
	}{{"OLD", oldModel}, {"NEW", newModel}} {
		for _, n := range side.model.Notes() {
			fmt.Fprintf(o.streams.ErrOut, "note: %s: %s\n", side.label, n)
		}
	}
	o.oldRev, o.newRev = oldRev, newRev
	changes := rbacsim.Diff(oldModel, newModel)
	if err := rbacsim.WriteDiff(o.streams.Out, o.Output, changes, o.file); err != nil {
		return err
	}
	for _, c := range changes {
		if o.FailOn == "any" || (o.FailOn == "risky" && c.Risky) {
			return withCode(exitFindings, nil)
		}
	}
	return nil
}

// file is the repository path an annotation names: a side read from a Git revision names its files
// "REV:PATH", and the path is the same file in the pull request's tree.
func (o *rbacDiffOptions) file(c *rbacsim.Change) string {
	f := c.Location.File
	if strings.HasPrefix(f, "(defaults)/") {
		return ""
	}
	rev := o.oldRev
	if c.InNew {
		rev = o.newRev
	}
	if rev != "" {
		f = strings.TrimPrefix(f, rev+":")
	}
	return f
}
