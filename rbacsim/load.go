package rbacsim

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	rbacv1 "k8s.io/api/rbac/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// Source says where an object was read: a file (or "-" for stdin), the index of its YAML document in
// that file (from 0, counting non-empty documents), and its index in a List's items (-1 if not in a List).
type Source struct {
	File     string
	Document int
	Item     int
}

func (s Source) String() string {
	if s.Item >= 0 {
		return fmt.Sprintf("%s: document %d, items[%d]", s.File, s.Document, s.Item)
	}
	return fmt.Sprintf("%s: document %d", s.File, s.Document)
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

// ReadPaths reads manifests from files, folders (recursively, *.yaml, *.yml and *.json) and "-" (stdin).
// The first bad document stops the reading with a *DocumentError.
func ReadPaths(paths []string, stdin io.Reader) (*Objects, error) {
	all := &Objects{Sources: map[any]Source{}}
	stdinRead := false
	for _, p := range paths {
		if p == "-" {
			if stdinRead {
				return nil, errors.New("stdin (-) given more than once")
			}
			stdinRead = true
			if stdin == nil {
				return nil, errors.New("no stdin to read")
			}
			data, err := io.ReadAll(stdin)
			if err != nil {
				return nil, fmt.Errorf("reading stdin: %w", err)
			}
			objs, err := Parse("-", data)
			if err != nil {
				return nil, err
			}
			all.Append(objs)
			continue
		}
		files, err := manifestFiles(p)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				return nil, err
			}
			objs, err := Parse(f, data)
			if err != nil {
				return nil, err
			}
			all.Append(objs)
		}
	}
	return all, nil
}

func manifestFiles(p string) ([]string, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return []string{p}, nil
	}
	var files []string
	err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		switch strings.ToLower(filepath.Ext(path)) {
		case ".yaml", ".yml", ".json":
			files = append(files, path)
		}
		return nil
	})
	return files, err
}

// typeProbe reads what is needed to route a document.
type typeProbe struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Metadata   probeMeta         `json:"metadata"`
	Items      []json.RawMessage `json:"items"`
}

type probeMeta struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
}

// Parse reads the YAML or JSON documents of one file. name is used in errors and notes only.
// Documents are counted from 0, skipping those with nothing but comments and blank lines. Large files
// are decoded on all CPUs; the result and the first error do not depend on it.
func Parse(name string, data []byte) (*Objects, error) {
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var chunks [][]byte
	for {
		chunk, err := reader.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, &DocumentError{Source: Source{File: name, Document: len(chunks), Item: -1}, Err: err}
		}
		if !blankDocument(chunk) {
			chunks = append(chunks, chunk)
		}
	}
	parts := make([]*Objects, len(chunks))
	errs := make([]error, len(chunks))
	decode := func(i int) {
		parts[i] = &Objects{Sources: map[any]Source{}}
		errs[i] = parts[i].addChunk(Source{File: name, Document: i, Item: -1}, chunks[i])
	}
	workers := runtime.GOMAXPROCS(0)
	if len(chunks) < 64 || workers == 1 {
		for i := range chunks {
			if decode(i); errs[i] != nil {
				return nil, errs[i]
			}
		}
	} else {
		var next atomic.Int64
		var wg sync.WaitGroup
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := int(next.Add(1) - 1)
					if i >= len(chunks) {
						return
					}
					decode(i)
				}
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				return nil, err
			}
		}
	}
	objs := &Objects{Sources: make(map[any]Source, len(chunks))}
	for _, p := range parts {
		objs.Append(p)
	}
	return objs, nil
}

// blankDocument reports a document of blank lines and comments only.
func blankDocument(chunk []byte) bool {
	for _, line := range bytes.Split(chunk, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) > 0 && line[0] != '#' && !bytes.Equal(line, []byte("---")) {
			return false
		}
	}
	return true
}

func (o *Objects) addChunk(src Source, chunk []byte) error {
	js := bytes.TrimSpace(chunk)
	if len(js) == 0 || js[0] != '{' || !json.Valid(js) {
		// YAML (JSON documents skip the YAML parser)
		var err error
		if js, err = yaml.YAMLToJSON(chunk); err != nil {
			return &DocumentError{Source: src, Err: err}
		}
		js = bytes.TrimSpace(js)
	}
	if len(js) == 0 || string(js) == "null" {
		return nil
	}
	return o.addDocument(src, js)
}

func (o *Objects) addDocument(src Source, js []byte) error {
	if js[0] != '{' {
		return &DocumentError{Source: src, Err: errors.New("not a Kubernetes object (expected a mapping with apiVersion and kind)")}
	}
	var probe typeProbe
	if err := json.Unmarshal(js, &probe); err != nil {
		return &DocumentError{Source: src, Err: fmt.Errorf("not a Kubernetes object: %w", err)}
	}
	if probe.Kind == "List" || (strings.HasSuffix(probe.Kind, "List") && probe.Items != nil) {
		itemKind := strings.TrimSuffix(probe.Kind, "List")
		for i, item := range probe.Items {
			isrc := src
			isrc.Item = i
			item = bytes.TrimSpace(item)
			if len(item) == 0 || item[0] != '{' {
				return &DocumentError{Source: isrc, Err: errors.New("list item is not an object")}
			}
			var ip typeProbe
			if err := json.Unmarshal(item, &ip); err != nil {
				return &DocumentError{Source: isrc, Err: err}
			}
			if ip.Kind == "" && itemKind != "" {
				// Typed lists from the API (RoleList) leave apiVersion and kind out of their items.
				ip.Kind, ip.APIVersion = itemKind, probe.APIVersion
			}
			if err := o.addObject(isrc, ip, item); err != nil {
				return err
			}
		}
		return nil
	}
	return o.addObject(src, probe, js)
}

func (o *Objects) addObject(src Source, probe typeProbe, js []byte) error {
	group, version, _ := strings.Cut(probe.APIVersion, "/")
	if version == "" {
		group = ""
	}
	if probe.Kind == "" || probe.APIVersion == "" {
		o.Notes = append(o.Notes, fmt.Sprintf("%s: skipped, not a Kubernetes object (no apiVersion or kind)", src))
		return nil
	}
	name := probe.Metadata.Name
	if probe.Metadata.Namespace != "" {
		name = probe.Metadata.Namespace + "/" + name
	}
	switch {
	case group == rbacv1.GroupName:
		return o.addRBAC(src, probe, js)
	case group == "apiextensions.k8s.io" && probe.Kind == "CustomResourceDefinition":
		info, err := parseCRD(js)
		if err != nil {
			return &DocumentError{Source: src, Kind: probe.Kind, Name: name, Err: err}
		}
		o.CRDs = append(o.CRDs, info)
		return nil
	}
	o.Notes = append(o.Notes, fmt.Sprintf("%s (%s %q): skipped, not an RBAC object", src, probe.Kind, name))
	return nil
}

func (o *Objects) addRBAC(src Source, probe typeProbe, js []byte) error {
	name := probe.Metadata.Name
	fail := func(err error) error {
		n := name
		if probe.Metadata.Namespace != "" {
			n = probe.Metadata.Namespace + "/" + name
		}
		return &DocumentError{Source: src, Kind: probe.Kind, Name: n, Err: err}
	}
	if v := strings.TrimPrefix(probe.APIVersion, rbacv1.GroupName+"/"); v != "v1" {
		o.Notes = append(o.Notes, fmt.Sprintf("%s (%s %q): read as rbac.authorization.k8s.io/v1 (was %s)", src, probe.Kind, name, probe.APIVersion))
	}
	var obj any
	switch probe.Kind {
	case "Role":
		r := &rbacv1.Role{}
		if err := decodeStrict(js, r); err != nil {
			return fail(err)
		}
		defaultNamespace(&r.ObjectMeta.Namespace)
		if errs := validateRole(r); len(errs) > 0 {
			return fail(errs.ToAggregate())
		}
		o.Roles, obj = append(o.Roles, r), r
	case "ClusterRole":
		r := &rbacv1.ClusterRole{}
		if err := decodeStrict(js, r); err != nil {
			return fail(err)
		}
		if errs := validateClusterRole(r); len(errs) > 0 {
			return fail(errs.ToAggregate())
		}
		o.ClusterRoles, obj = append(o.ClusterRoles, r), r
	case "RoleBinding":
		b := &rbacv1.RoleBinding{}
		if err := decodeStrict(js, b); err != nil {
			return fail(err)
		}
		defaultNamespace(&b.ObjectMeta.Namespace)
		defaultSubjects(b.Subjects)
		if errs := validateBinding(b.Name, b.RoleRef, b.Subjects, true); len(errs) > 0 {
			return fail(errs.ToAggregate())
		}
		o.RoleBindings, obj = append(o.RoleBindings, b), b
	case "ClusterRoleBinding":
		b := &rbacv1.ClusterRoleBinding{}
		if err := decodeStrict(js, b); err != nil {
			return fail(err)
		}
		defaultSubjects(b.Subjects)
		if errs := validateBinding(b.Name, b.RoleRef, b.Subjects, false); len(errs) > 0 {
			return fail(errs.ToAggregate())
		}
		o.ClusterRoleBindings, obj = append(o.ClusterRoleBindings, b), b
	default:
		o.Notes = append(o.Notes, fmt.Sprintf("%s (%s %q): skipped, not an RBAC object", src, probe.Kind, name))
		return nil
	}
	o.Sources[obj] = src
	return nil
}

// decodeStrict decodes JSON into an API object, refusing unknown fields as kubectl's strict field
// validation does.
func decodeStrict(js []byte, into any) error {
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		return err
	}
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
			Name         string `json:"name"`
			Storage      bool   `json:"storage"`
			Subresources *struct {
				Status *json.RawMessage `json:"status"`
				Scale  *json.RawMessage `json:"scale"`
			} `json:"subresources"`
		} `json:"versions"`
	} `json:"spec"`
}

func parseCRD(js []byte) (ResourceInfo, error) {
	var crd crdDoc
	if err := json.Unmarshal(js, &crd); err != nil {
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
		if v.Subresources != nil {
			if v.Subresources.Status != nil {
				subs["status"] = true
			}
			if v.Subresources.Scale != nil {
				subs["scale"] = true
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
