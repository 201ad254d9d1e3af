package rbacsim

import (
	"errors"
	"fmt"
	"io"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"

	"github.com/verdict-dev/verdict/internal/parallel"
	"github.com/verdict-dev/verdict/manifest"
)

// Source says where an object was read: a file (or "-" for stdin), its document's number in that
// file (from 1, as manifest numbers documents), the document's absolute line, and its place among a
// List's items ("items[N]", or "").
type Source struct {
	File     string
	Document int
	Line     int
	Item     string
}

func (s Source) String() string {
	out := s.File
	if s.Line > 0 {
		out += fmt.Sprintf(":%d", s.Line)
	}
	out += fmt.Sprintf(": document %d", s.Document)
	if s.Item != "" {
		out += ", " + s.Item
	}
	return out
}

func sourceOf(d manifest.Document) Source {
	return Source{File: d.File, Document: d.Index, Line: d.Line, Item: d.Item}
}

// DocumentError is a document that could not be read: bad YAML, a malformed RBAC object, or one that
// the API server would reject.
type DocumentError struct {
	Source Source
	Kind   string // empty when the document could not be decoded far enough
	Name   string
	Err    error
}

func (e *DocumentError) Error() string {
	if e.Kind != "" {
		return fmt.Sprintf("%s (%s %q): %v", e.Source, e.Kind, e.Name, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.Source, e.Err)
}

func (e *DocumentError) Unwrap() error { return e.Err }

// Objects are the RBAC objects and CustomResourceDefinitions read from the inputs.
type Objects struct {
	Roles               []*rbacv1.Role
	ClusterRoles        []*rbacv1.ClusterRole
	RoleBindings        []*rbacv1.RoleBinding
	ClusterRoleBindings []*rbacv1.ClusterRoleBinding
	// CRDs are the resource types defined by CustomResourceDefinitions, for TYPE resolution.
	CRDs []ResourceInfo
	// Sources maps each object above (by pointer) to where it was read.
	Sources map[any]Source
	// Notes are remarks for the user: skipped documents, odd but valid rules.
	Notes []string
}

// Append adds all of other to o.
func (o *Objects) Append(other *Objects) {
	o.Roles = append(o.Roles, other.Roles...)
	o.ClusterRoles = append(o.ClusterRoles, other.ClusterRoles...)
	o.RoleBindings = append(o.RoleBindings, other.RoleBindings...)
	o.ClusterRoleBindings = append(o.ClusterRoleBindings, other.ClusterRoleBindings...)
	o.CRDs = append(o.CRDs, other.CRDs...)
	if o.Sources == nil {
		o.Sources = map[any]Source{}
	}
	for k, v := range other.Sources {
		o.Sources[k] = v
	}
	o.Notes = append(o.Notes, other.Notes...)
}

// ReadPaths reads manifests from files, folders (recursively, *.yaml, *.yml and *.json, as manifest
// walks them) and "-" (stdin). Every document that cannot be read or is not a valid RBAC object is
// an error, all of them joined; a folder's files that hold no Kubernetes object are skipped with a
// note.
func ReadPaths(paths []string, stdin io.Reader) (*Objects, error) {
	return fromSet(manifest.Read(paths, stdin))
}

// Parse reads the YAML or JSON documents of one file. name is used in errors and notes only.
func Parse(name string, data []byte) (*Objects, error) {
	return fromSet(manifest.Decode(name, data))
}

func fromSet(set *manifest.Set) (*Objects, error) {
	objs, errs := FromDocuments(set.Documents)
	objs.Notes = append(append([]string(nil), set.Notes...), objs.Notes...)
	all := make([]error, 0, len(set.Errors)+len(errs))
	for _, e := range set.Errors {
		all = append(all, e)
	}
	if all = append(all, errs...); len(all) > 0 {
		return nil, errors.Join(all...)
	}
	return objs, nil
}

// FromDocuments takes the RBAC objects and CustomResourceDefinitions of documents, in order, and
// notes the documents of other kinds. Large sets are converted on every core; the result does not
// depend on it.
func FromDocuments(docs []manifest.Document) (*Objects, []error) {
	// Documents are converted in runs of 64, each run into objects of its own, merged in order.
	const run = 64
	runs := (len(docs) + run - 1) / run
	parts := make([]*Objects, runs)
	errs := make([][]error, runs)
	parallel.Each(runs, 2, func(r int) {
		p := &Objects{Sources: map[any]Source{}}
		for _, d := range docs[r*run : min(len(docs), (r+1)*run)] {
			notes := len(p.Notes)
			if err := p.addObject(d); err != nil {
				p.Notes = p.Notes[:notes] // a document in error adds nothing, not even its notes
				errs[r] = append(errs[r], err)
			}
		}
		parts[r] = p
	})
	objs := &Objects{Sources: make(map[any]Source, len(docs))}
	var bad []error
	for r, p := range parts {
		bad = append(bad, errs[r]...)
		objs.Append(p)
	}
	return objs, bad
}

func (o *Objects) addObject(d manifest.Document) error {
	src := sourceOf(d)
	obj := d.Object
	gvk := obj.GroupVersionKind()
	name := obj.GetName()
	if ns := obj.GetNamespace(); ns != "" {
		name = ns + "/" + name
	}
	switch {
	case gvk.Group == rbacv1.GroupName:
		return o.addRBAC(src, d)
	case gvk.Group == "apiextensions.k8s.io" && gvk.Kind == "CustomResourceDefinition":
		info, err := parseCRD(obj.Object)
		if err != nil {
			return &DocumentError{Source: src, Kind: gvk.Kind, Name: name, Err: err}
		}
		o.CRDs = append(o.CRDs, info)
		return nil
	}
	o.Notes = append(o.Notes, fmt.Sprintf("%s (%s %q): skipped, not an RBAC object", src, gvk.Kind, name))
	return nil
}

func (o *Objects) addRBAC(src Source, d manifest.Document) error {
	obj := d.Object
	kind, name := obj.GetKind(), obj.GetName()
	fail := func(err error) error {
		n := name
		if ns := obj.GetNamespace(); ns != "" {
			n = ns + "/" + name
		}
		return &DocumentError{Source: src, Kind: kind, Name: n, Err: err}
	}
	if v := obj.GroupVersionKind().Version; v != "v1" {
		o.Notes = append(o.Notes, fmt.Sprintf("%s (%s %q): read as rbac.authorization.k8s.io/v1 (was %s)", src, kind, name, obj.GetAPIVersion()))
	}
	var typed any
	switch kind {
	case "Role":
		r := &rbacv1.Role{}
		if err := decodeStrict(obj.Object, r); err != nil {
			return fail(err)
		}
		defaultNamespace(&r.ObjectMeta.Namespace)
		if errs := validateRole(r); len(errs) > 0 {
			return fail(errs.ToAggregate())
		}
		o.Roles, typed = append(o.Roles, r), r
	case "ClusterRole":
		r := &rbacv1.ClusterRole{}
		if err := decodeStrict(obj.Object, r); err != nil {
			return fail(err)
		}
		if errs := validateClusterRole(r); len(errs) > 0 {
			return fail(errs.ToAggregate())
		}
		o.ClusterRoles, typed = append(o.ClusterRoles, r), r
	case "RoleBinding":
		b := &rbacv1.RoleBinding{}
		if err := decodeStrict(obj.Object, b); err != nil {
			return fail(err)
		}
		defaultNamespace(&b.ObjectMeta.Namespace)
		defaultSubjects(b.Subjects)
		if errs := validateBinding(b.Name, b.RoleRef, b.Subjects, true); len(errs) > 0 {
			return fail(errs.ToAggregate())
		}
		o.RoleBindings, typed = append(o.RoleBindings, b), b
	case "ClusterRoleBinding":
		b := &rbacv1.ClusterRoleBinding{}
		if err := decodeStrict(obj.Object, b); err != nil {
			return fail(err)
		}
		defaultSubjects(b.Subjects)
		if errs := validateBinding(b.Name, b.RoleRef, b.Subjects, false); len(errs) > 0 {
			return fail(errs.ToAggregate())
		}
		o.ClusterRoleBindings, typed = append(o.ClusterRoleBindings, b), b
	default:
		o.Notes = append(o.Notes, fmt.Sprintf("%s (%s %q): skipped, not an RBAC object", src, kind, name))
		return nil
	}
	o.Sources[typed] = src
	return nil
}

// defaultNamespace puts a namespaced object without a namespace in "default", as kubectl apply does.
func defaultNamespace(ns *string) {
	if *ns == "" {
		*ns = "default"
	}
}

// defaultSubjects applies the rbac/v1 defaults: User and Group subjects are in the RBAC API group.
func defaultSubjects(subjects []rbacv1.Subject) {
	for i := range subjects {
		if subjects[i].APIGroup == "" && (subjects[i].Kind == rbacv1.UserKind || subjects[i].Kind == rbacv1.GroupKind) {
			subjects[i].APIGroup = rbacv1.GroupName
		}
	}
}

// crdDoc is the part of a CustomResourceDefinition that type resolution needs.
type crdDoc struct {
	Spec struct {
		Group string `json:"group"`
		Names struct {
			Plural     string   `json:"plural"`
			Singular   string   `json:"singular"`
			Kind       string   `json:"kind"`
			ShortNames []string `json:"shortNames"`
		} `json:"names"`
		Scope    string `json:"scope"`
		Versions []struct {
			Name         string         `json:"name"`
			Storage      bool           `json:"storage"`
			Subresources map[string]any `json:"subresources"`
		} `json:"versions"`
	} `json:"spec"`
}

func parseCRD(object map[string]any) (ResourceInfo, error) {
	var crd crdDoc
	if err := k8sruntime.DefaultUnstructuredConverter.FromUnstructured(object, &crd); err != nil {
		return ResourceInfo{}, err
	}
	s := crd.Spec
	if s.Group == "" || s.Names.Plural == "" {
		return ResourceInfo{}, errors.New("spec.group and spec.names.plural are required")
	}
	info := ResourceInfo{
		Group: s.Group, Resource: strings.ToLower(s.Names.Plural), Singular: strings.ToLower(s.Names.Singular),
		Kind: s.Names.Kind, ShortNames: s.Names.ShortNames, Namespaced: s.Scope != "Cluster",
	}
	if info.Singular == "" {
		info.Singular = strings.ToLower(s.Names.Kind)
	}
	subs := map[string]bool{}
	for _, v := range s.Versions {
		if info.Version == "" || v.Storage {
			info.Version = v.Name
		}
		for _, sub := range []string{"status", "scale"} {
			if _, ok := v.Subresources[sub]; ok {
				subs[sub] = true
			}
		}
	}
	for _, s := range []string{"scale", "status"} {
		if subs[s] {
			info.Subresources = append(info.Subresources, s)
		}
	}
	return info, nil
}
