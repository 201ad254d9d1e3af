package rbacsim

import (
	"fmt"

	rbacv1 "k8s.io/api/rbac/v1"
)

// Role is a Role or ClusterRole of the model, with its rules after aggregation.
type Role struct {
	Kind      string // "Role" or "ClusterRole"
	Namespace string // empty for a ClusterRole
	Name      string
	Rules     []rbacv1.PolicyRule
	// RuleOrigins names, for an aggregated ClusterRole, the ClusterRole each rule came from.
	RuleOrigins []string
	Labels      map[string]string
	Aggregation *rbacv1.AggregationRule
	Source      Source

	verbs     uint32   // verbMask of all rules
	ruleVerbs []uint32 // verbMask of each rule
}

// String is how reasons name a role: "ClusterRole edit", "Role team-a/deployer".
func (r *Role) String() string {
	if r.Namespace != "" {
		return r.Kind + " " + r.Namespace + "/" + r.Name
	}
	return r.Kind + " " + r.Name
}

// Binding is a RoleBinding or ClusterRoleBinding of the model, its role resolved.
type Binding struct {
	Kind      string // "RoleBinding" or "ClusterRoleBinding"
	Namespace string // empty for a ClusterRoleBinding
	Name      string
	RoleRef   rbacv1.RoleRef
	Subjects  []rbacv1.Subject
	// Role is the referenced role, nil when it is missing from the inputs (the binding grants nothing).
	Role   *Role
	Source Source
	order  int // position among all bindings, for a stable order
	// reasonPrefix is "RBAC: allowed by <binding> of <role> rule #", built once.
	reasonPrefix string
}

// String is how reasons name a binding: "RoleBinding team-a/ci", "ClusterRoleBinding admins".
func (b *Binding) String() string {
	if b.Namespace != "" {
		return b.Kind + " " + b.Namespace + "/" + b.Name
	}
	return b.Kind + " " + b.Name
}

// RoleRefString names the role the binding refers to, resolved or not: "ClusterRole edit".
func (b *Binding) RoleRefString() string {
	if b.RoleRef.Kind == "Role" {
		return "Role " + b.Namespace + "/" + b.RoleRef.Name
	}
	return b.RoleRef.Kind + " " + b.RoleRef.Name
}

// MissingRoleError is the resolution error of a binding whose role is not in the inputs.
type MissingRoleError struct{ Binding *Binding }

func (e *MissingRoleError) Error() string {
	return fmt.Sprintf("%s refers to %s, which does not exist", e.Binding, e.Binding.RoleRefString())
}

// subjectIndex finds bindings by subject. Users and service accounts are keyed by user name
// (a ServiceAccount subject is the user system:serviceaccount:NS:NAME), groups by group name.
type subjectIndex struct {
	byUser  map[string][]*Binding
	byGroup map[string][]*Binding
	all     []*Binding
}

func newSubjectIndex() *subjectIndex {
	return &subjectIndex{byUser: map[string][]*Binding{}, byGroup: map[string][]*Binding{}}
}

// Model is an immutable, indexed set of RBAC objects. It is safe for concurrent use.
type Model struct {
	roles        map[string]*Role // "namespace/name"
	clusterRoles map[string]*Role
	cluster      *subjectIndex            // ClusterRoleBindings
	namespaced   map[string]*subjectIndex // RoleBindings by namespace
	bindings     []*Binding               // all, ClusterRoleBindings first
	resolver     *Resolver
	notes        []string
}

// NewModel builds the model: it resolves ClusterRole aggregation, binds each binding to its role and
// indexes bindings by subject. Objects later in the inputs replace earlier ones of the same kind and name.
func NewModel(objs *Objects) *Model {
	m := &Model{
		roles:        map[string]*Role{},
		clusterRoles: map[string]*Role{},
		cluster:      newSubjectIndex(),
		namespaced:   map[string]*subjectIndex{},
		resolver:     NewResolver(objs.CRDs),
		notes:        append([]string(nil), objs.Notes...),
	}
	for _, r := range objs.Roles {
		m.roles[r.Namespace+"/"+r.Name] = &Role{Kind: "Role", Namespace: r.Namespace, Name: r.Name,
			Rules: r.Rules, Labels: r.Labels, Source: objs.Sources[r]}
	}
	for _, r := range objs.ClusterRoles {
		m.clusterRoles[r.Name] = &Role{Kind: "ClusterRole", Name: r.Name, Rules: r.Rules,
			Labels: r.Labels, Aggregation: r.AggregationRule, Source: objs.Sources[r]}
	}
	m.notes = append(m.notes, aggregate(m.clusterRoles)...)
	for _, r := range m.roles {
		r.compile()
	}
	for _, r := range m.clusterRoles {
		r.compile()
	}

	crbs := map[string]*Binding{}
	var order []*Binding
	for _, b := range objs.ClusterRoleBindings {
		nb := &Binding{Kind: "ClusterRoleBinding", Name: b.Name, RoleRef: b.RoleRef, Subjects: b.Subjects, Source: objs.Sources[b]}
		if old, ok := crbs[b.Name]; ok {
			*old = *nb
			continue
		}
		crbs[b.Name] = nb
		order = append(order, nb)
	}
	rbs := map[string]*Binding{}
	for _, b := range objs.RoleBindings {
		nb := &Binding{Kind: "RoleBinding", Namespace: b.Namespace, Name: b.Name, RoleRef: b.RoleRef, Subjects: b.Subjects, Source: objs.Sources[b]}
		key := b.Namespace + "/" + b.Name
		if old, ok := rbs[key]; ok {
			*old = *nb
			continue
		}
		rbs[key] = nb
		order = append(order, nb)
	}
	for i, b := range order {
		b.order = i
		switch b.RoleRef.Kind {
		case "ClusterRole":
			b.Role = m.clusterRoles[b.RoleRef.Name]
		case "Role":
			if b.Namespace != "" {
				b.Role = m.roles[b.Namespace+"/"+b.RoleRef.Name]
			}
		}
		b.reasonPrefix = "RBAC: allowed by " + b.String() + " of " + b.RoleRefString() + " rule #"
		m.bindings = append(m.bindings, b)
		idx := m.cluster
		if b.Kind == "RoleBinding" {
			idx = m.namespaced[b.Namespace]
			if idx == nil {
				idx = newSubjectIndex()
				m.namespaced[b.Namespace] = idx
			}
		}
		idx.add(b)
	}
	return m
}

func (x *subjectIndex) add(b *Binding) {
	x.all = append(x.all, b)
	seenUser, seenGroup := map[string]bool{}, map[string]bool{}
	for _, s := range b.Subjects {
		switch s.Kind {
		case rbacv1.UserKind:
			if !seenUser[s.Name] {
				seenUser[s.Name] = true
				x.byUser[s.Name] = append(x.byUser[s.Name], b)
			}
		case rbacv1.GroupKind:
			if !seenGroup[s.Name] {
				seenGroup[s.Name] = true
				x.byGroup[s.Name] = append(x.byGroup[s.Name], b)
			}
		case rbacv1.ServiceAccountKind:
			ns := s.Namespace
			if ns == "" {
				ns = b.Namespace // a RoleBinding's own namespace; a ClusterRoleBinding's SA without one matches nobody
			}
			if ns == "" {
				continue
			}
			u := serviceAccountUser(ns, s.Name)
			if !seenUser[u] {
				seenUser[u] = true
				x.byUser[u] = append(x.byUser[u], b)
			}
		}
	}
}

func serviceAccountUser(namespace, name string) string {
	return "system:serviceaccount:" + namespace + ":" + name
}

// Resolver resolves TYPE arguments with the built-in resources and the CRDs of the inputs.
func (m *Model) Resolver() *Resolver { return m.resolver }

// Notes are remarks about the inputs: skipped documents and aggregation problems.
func (m *Model) Notes() []string { return m.notes }

// Bindings returns every binding, ClusterRoleBindings first, each kind in input order.
func (m *Model) Bindings() []*Binding { return m.bindings }

// ClusterRole returns the named ClusterRole (rules after aggregation), or nil.
func (m *Model) ClusterRole(name string) *Role { return m.clusterRoles[name] }
