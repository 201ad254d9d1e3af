package rbacsim

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apiserver/pkg/authentication/serviceaccount"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/component-helpers/auth/rbac/validation"

	"github.com/verdict-dev/verdict/manifest"
)

// Hop is one way a subject's permissions reach further permissions: the request that realizes it, what
// it reaches (a service account, user or group to act as, a role to bind or rewrite), and the binding
// and role that allow the request.
type Hop struct {
	Subject Subject `json:"subject"`
	Request string  `json:"request"`
	Reaches Subject `json:"reaches"`
	Via     string  `json:"via"`
	// Attributes are the authorization attributes of the request (user excepted), for a
	// SubjectAccessReview; for a binding hop, the binding to create as the subject.
	Attributes authorizer.AttributesRecord `json:"-"`
	Binding    *rbacv1.RoleRef             `json:"-"`
}

// Workloads are the objects that hold what service accounts run: Pods (with their node and service
// account) and the service-account token Secrets among the inputs.
type Workloads struct {
	Pods         []PodRef
	TokenSecrets []TokenSecret
}

// PodRef is a Pod of the inputs.
type PodRef struct{ Namespace, Name, Node, ServiceAccount string }

// TokenSecret is a Secret of type kubernetes.io/service-account-token.
type TokenSecret struct{ Namespace, Name, ServiceAccount string }

// ReadWithWorkloads reads paths as ReadPaths does, and also the Pods and token Secrets among them.
func ReadWithWorkloads(paths []string, stdin io.Reader) (*Objects, *Workloads, error) {
	set := manifest.Read(paths, stdin)
	objs, err := fromSet(set)
	if err != nil {
		return nil, nil, err
	}
	return objs, WorkloadsFrom(set.Documents), nil
}

// WorkloadsFrom takes the Pods and service-account token Secrets of documents. A Pod without a
// service account runs as "default", as the ServiceAccount admission plugin sets it.
func WorkloadsFrom(docs []manifest.Document) *Workloads {
	w := &Workloads{}
	for _, d := range docs {
		o := d.Object
		if o.GetAPIVersion() != "v1" {
			continue
		}
		ns := o.GetNamespace()
		if ns == "" {
			ns = "default"
		}
		switch o.GetKind() {
		case "Pod":
			spec, _ := o.Object["spec"].(map[string]any)
			sa, _ := spec["serviceAccountName"].(string)
			if sa == "" {
				sa = "default"
			}
			node, _ := spec["nodeName"].(string)
			w.Pods = append(w.Pods, PodRef{Namespace: ns, Name: o.GetName(), Node: node, ServiceAccount: sa})
		case "Secret":
			if t, _ := o.Object["type"].(string); t != "kubernetes.io/service-account-token" {
				continue
			}
			if sa := o.GetAnnotations()["kubernetes.io/service-account.name"]; sa != "" {
				w.TokenSecrets = append(w.TokenSecrets, TokenSecret{Namespace: ns, Name: o.GetName(), ServiceAccount: sa})
			}
		}
	}
	return w
}

// workloadKinds are what create pods, in the order they are tried: the first one allowed in a
// namespace is its hop.
var workloadKinds = []struct{ group, version, resource string }{
	{"", "v1", "pods"}, {"apps", "v1", "deployments"}, {"apps", "v1", "replicasets"}, {"apps", "v1", "statefulsets"},
	{"apps", "v1", "daemonsets"}, {"batch", "v1", "jobs"}, {"batch", "v1", "cronjobs"}, {"", "v1", "replicationcontrollers"},
}

// anyName is a name that no rule names, to ask whether a request is allowed for every name.
const anyName = "\x00any"

type escalator struct {
	m    *Model
	w    *Workloads
	ctx  context.Context
	nss  []string            // known namespaces
	sas  map[string][]string // known service accounts by namespace
	hops []Hop
	seen map[string]bool
}

// Escalations lists the hops from the subject's permissions, one step at a time, and with depth > 1
// the hops of what those reach (service accounts, users and groups named, not "*"), up to depth steps.
// u is the subject's identity (Subject.User, or an impersonated user with its groups).
//
// Hops: create pods or a workload in a namespace reaches each service account known there (named in a
// binding, a Pod or a token Secret, and "default"); create serviceaccounts/token reaches that account;
// get (or list) of a token Secret reaches its account; bind lets a subject that may create bindings
// bind a role whose rules it does not hold, as the API server's escalation check allows
// (BindingAuthorized, else ConfirmNoEscalation); escalate with update (or create) of a role rewrites
// it with any rules; impersonate reaches users, groups, service accounts and user extras; get
// nodes/proxy reaches the service accounts of the node's pods, create pods/exec (or attach) the pod's.
// Every hop's request is one that Authorize allows the subject.
func (m *Model) Escalations(s Subject, u user.Info, w *Workloads, depth int) []Hop {
	if w == nil {
		w = &Workloads{}
	}
	e := &escalator{m: m, w: w, ctx: context.Background(), sas: map[string][]string{}, seen: map[string]bool{}}
	e.known()
	type item struct {
		s Subject
		u user.Info
	}
	queue := []item{{s, u}}
	visited := map[Subject]bool{s: true}
	for step := 0; step < max(depth, 1) && len(queue) > 0; step++ {
		var next []item
		for _, it := range queue {
			start := len(e.hops)
			e.subject(it.s, it.u)
			for _, h := range e.hops[start:] {
				r := h.Reaches
				if visited[r] || r.Name == "*" || r.Namespace == "*" || (r.Kind != rbacv1.UserKind && r.Kind != rbacv1.GroupKind && r.Kind != rbacv1.ServiceAccountKind) {
					continue
				}
				visited[r] = true
				next = append(next, item{r, r.User()})
			}
		}
		queue = next
	}
	return e.hops
}

// known collects the namespaces and service accounts that the inputs name.
func (e *escalator) known() {
	nsSet := map[string]bool{}
	saSet := map[string]bool{}
	addSA := func(ns, name string) {
		nsSet[ns] = true
		if !saSet[ns+"/"+name] {
			saSet[ns+"/"+name] = true
			e.sas[ns] = append(e.sas[ns], name)
		}
	}
	for ns := range e.m.namespaced {
		nsSet[ns] = true
	}
	for _, r := range e.m.roles {
		nsSet[r.Namespace] = true
	}
	for _, s := range diffSubjects(e.m) {
		if s.Kind == rbacv1.ServiceAccountKind {
			addSA(s.Namespace, s.Name)
		}
	}
	for _, p := range e.w.Pods {
		addSA(p.Namespace, p.ServiceAccount)
	}
	for _, t := range e.w.TokenSecrets {
		addSA(t.Namespace, t.ServiceAccount)
	}
	for ns := range nsSet {
		e.nss = append(e.nss, ns)
		addSA(ns, "default")
	}
	sort.Strings(e.nss)
	for ns := range e.sas {
		sort.Strings(e.sas[ns])
	}
}

// via is the binding and role of the first rule that allows the request, "" when none does.
func (e *escalator) via(u user.Info, a authorizer.AttributesRecord) string {
	for _, g := range u.GetGroups() {
		if g == user.SystemPrivilegedGroup {
			return "group " + user.SystemPrivilegedGroup
		}
	}
	a.User = u
	req := requestFrom(&a)
	out := ""
	e.m.VisitRulesFor(u, a.Namespace, func(src *RuleSource, rule *rbacv1.PolicyRule, _ error) bool {
		if rule != nil && ruleAllows(&req, rule) {
			out = src.Binding.String() + " → " + src.Binding.RoleRefString()
			if origin := ruleOrigin(sourced{binding: src.Binding, index: src.Rule}); origin != "" {
				out += " (aggregated from ClusterRole " + origin + ")"
			}
			return false
		}
		return true
	})
	return out
}

func (e *escalator) add(s Subject, request string, reaches Subject, via string, a authorizer.AttributesRecord, ref *rbacv1.RoleRef) {
	if reaches == s {
		return // the subject's own service account
	}
	key := s.String() + "\x00" + request + "\x00" + reaches.Kind + "/" + reaches.Namespace + "/" + reaches.Name
	if e.seen[key] {
		return
	}
	e.seen[key] = true
	for _, f := range []*string{&a.Name, &a.Namespace, &a.Subresource} {
		if *f == anyName {
			*f = "verdict-any" // a concrete value for a SubjectAccessReview
		}
	}
	e.hops = append(e.hops, Hop{Subject: s, Request: request, Reaches: reaches, Via: via, Attributes: a, Binding: ref})
}

func res(verb, group, resource, sub, ns, name string) authorizer.AttributesRecord {
	return authorizer.AttributesRecord{Verb: verb, APIGroup: group, APIVersion: "*", Resource: resource, Subresource: sub,
		Namespace: ns, Name: name, ResourceRequest: true}
}

// apiPath is the path of a resource request: /api/v1/namespaces/NS/pods/NAME/exec.
func apiPath(group, version, resource, sub, ns, name string) string {
	p := "/api/" + version
	if group != "" {
		p = "/apis/" + group + "/" + version
	}
	if ns != "" {
		p += "/namespaces/" + ns
	}
	p += "/" + resource
	if name != "" && name != anyName {
		p += "/" + name
	} else if sub != "" {
		p += "/{name}"
	}
	if sub != "" {
		p += "/" + sub
	}
	return p
}

func saSubject(ns, name string) Subject {
	return Subject{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: name}
}

func (e *escalator) subject(s Subject, u user.Info) {
	for _, ns := range e.nss {
		e.workloads(s, u, ns)
		e.tokens(s, u, ns)
		e.exec(s, u, ns)
	}
	e.anyNamespace(s, u)
	e.secrets(s, u)
	e.nodes(s, u)
	e.impersonation(s, u)
	e.bindings(s, u)
	e.roles(s, u)
}

func (e *escalator) workloads(s Subject, u user.Info, ns string) {
	for _, k := range workloadKinds {
		a := res("create", k.group, k.resource, "", ns, "")
		if via := e.via(u, a); via != "" {
			for _, sa := range e.sas[ns] {
				e.add(s, "POST "+apiPath(k.group, k.version, k.resource, "", ns, ""), saSubject(ns, sa), via, a, nil)
			}
			return
		}
	}
}

// anyNamespace reports what cluster-wide rules give in every namespace, the ones the inputs do not
// name included: pods (or a workload) and tokens of any service account of any namespace.
func (e *escalator) anyNamespace(s Subject, u user.Info) {
	for _, k := range workloadKinds {
		a := res("create", k.group, k.resource, "", anyName, "")
		if via := e.via(u, a); via != "" {
			e.add(s, "POST "+apiPath(k.group, k.version, k.resource, "", "{namespace}", ""), saSubject("*", "*"), via, a, nil)
			break
		}
	}
	a := res("create", "", "serviceaccounts", "token", anyName, anyName)
	if via := e.via(u, a); via != "" {
		e.add(s, "POST /api/v1/namespaces/{namespace}/serviceaccounts/{name}/token", saSubject("*", "*"), via, a, nil)
	}
}

func (e *escalator) tokens(s Subject, u user.Info, ns string) {
	for _, sa := range e.sas[ns] {
		a := res("create", "", "serviceaccounts", "token", ns, sa)
		if via := e.via(u, a); via != "" {
			e.add(s, "POST "+apiPath("", "v1", "serviceaccounts", "token", ns, sa), saSubject(ns, sa), via, a, nil)
		}
	}
}

func (e *escalator) exec(s Subject, u user.Info, ns string) {
	for _, sub := range []string{"exec", "attach"} {
		any := res("create", "", "pods", sub, ns, anyName)
		if via := e.via(u, any); via != "" {
			e.add(s, "POST "+apiPath("", "v1", "pods", sub, ns, anyName), saSubject(ns, "*"), via, any, nil)
			continue
		}
		for _, p := range e.w.Pods {
			if p.Namespace != ns {
				continue
			}
			a := res("create", "", "pods", sub, ns, p.Name)
			if via := e.via(u, a); via != "" {
				e.add(s, "POST "+apiPath("", "v1", "pods", sub, ns, p.Name), saSubject(ns, p.ServiceAccount), via, a, nil)
			}
		}
	}
}

func (e *escalator) secrets(s Subject, u user.Info) {
	for _, t := range e.w.TokenSecrets {
		a := res("get", "", "secrets", "", t.Namespace, t.Name)
		if via := e.via(u, a); via != "" {
			e.add(s, "GET "+apiPath("", "v1", "secrets", "", t.Namespace, t.Name), saSubject(t.Namespace, t.ServiceAccount), via, a, nil)
			continue
		}
		a = res("list", "", "secrets", "", t.Namespace, "")
		if via := e.via(u, a); via != "" {
			e.add(s, "GET "+apiPath("", "v1", "secrets", "", t.Namespace, ""), saSubject(t.Namespace, t.ServiceAccount), via, a, nil)
		}
	}
}

func (e *escalator) nodes(s Subject, u user.Info) {
	nodes := map[string][]PodRef{}
	var names []string
	for _, p := range e.w.Pods {
		if p.Node == "" {
			continue
		}
		if _, ok := nodes[p.Node]; !ok {
			names = append(names, p.Node)
		}
		nodes[p.Node] = append(nodes[p.Node], p)
	}
	sort.Strings(names)
	if a := res("get", "", "nodes", "proxy", "", anyName); e.via(u, a) != "" {
		e.add(s, "GET /api/v1/nodes/{name}/proxy/pods", saSubject("*", "*"), e.via(u, a), a, nil)
		return
	}
	for _, n := range names {
		a := res("get", "", "nodes", "proxy", "", n)
		via := e.via(u, a)
		if via == "" {
			continue
		}
		for _, p := range nodes[n] {
			e.add(s, "GET /api/v1/nodes/"+n+"/proxy/pods", saSubject(p.Namespace, p.ServiceAccount), via, a, nil)
		}
	}
}

// impersonation walks the subject's rules for impersonate verbs, as the impersonation filter asks:
// users, groups and userextras cluster-wide, service accounts in their namespace.
func (e *escalator) impersonation(s Subject, u user.Info) {
	type target struct {
		a       authorizer.AttributesRecord
		request string
		reaches Subject
	}
	var targets []target
	seen := map[string]bool{}
	consider := func(t target) {
		k := t.request
		if !seen[k] {
			seen[k] = true
			targets = append(targets, t)
		}
	}
	visitAll := func(visit RuleVisitor) {
		e.m.VisitRulesFor(u, "", visit)
		for _, ns := range e.nss {
			if idx := e.m.namespaced[ns]; idx != nil {
				e.m.visitIndex(idx, u, ns, visit)
			}
		}
	}
	visitAll(func(src *RuleSource, rule *rbacv1.PolicyRule, _ error) bool {
		if rule == nil || !verbMatches(rule, "impersonate") {
			return true
		}
		names := rule.ResourceNames
		if len(names) == 0 {
			names = []string{anyName}
		}
		shown := func(n string) string {
			if n == anyName {
				return "*"
			}
			return n
		}
		ns := src.Binding.Namespace
		for _, rr := range rule.Resources {
			for _, n := range names {
				if rr == "users" || rr == "*" {
					consider(target{res("impersonate", "", "users", "", "", n), "GET /api (Impersonate-User: " + shown(n) + ")", Subject{Kind: rbacv1.UserKind, Name: shown(n)}})
				}
				if rr == "groups" || rr == "*" {
					consider(target{res("impersonate", "", "groups", "", "", n), "GET /api (Impersonate-Group: " + shown(n) + ")", Subject{Kind: rbacv1.GroupKind, Name: shown(n)}})
				}
				if rr == "serviceaccounts" || rr == "*" {
					namespaces := []string{ns}
					if ns == "" {
						namespaces = append([]string{anyName}, e.nss...)
					}
					for _, sns := range namespaces {
						name := "system:serviceaccount:" + shown(sns) + ":" + shown(n)
						consider(target{res("impersonate", "", "serviceaccounts", "", sns, n), "GET /api (Impersonate-User: " + name + ")", saSubject(shown(sns), shown(n))})
					}
				}
				if key, ok := strings.CutPrefix(rr, "userextras/"); ok || rr == "*" {
					if key == "" || key == "*" {
						key = anyName
					}
					consider(target{res("impersonate", "authentication.k8s.io", "userextras", key, "", n),
						"GET /api (Impersonate-Extra-" + shown(key) + ": " + shown(n) + ")", Subject{Kind: "UserExtra", Name: shown(key) + "=" + shown(n)}})
				}
			}
		}
		return true
	})
	for _, t := range targets {
		if via := e.via(u, t.a); via != "" {
			e.add(s, t.request, t.reaches, via, t.a, nil)
		}
	}
}

// bindings: a subject that may create a binding may bind any role that the escalation check lets it:
// one it is allowed to bind (BindingAuthorized), or one whose rules it holds (ConfirmNoEscalation),
// which reaches nothing new. Hops are the roles bound through bind whose rules it does not hold.
func (e *escalator) bindings(s Subject, u user.Info) {
	e.bindIn(s, u, "", "clusterrolebindings")
	for _, ns := range e.nss {
		e.bindIn(s, u, ns, "rolebindings")
	}
}

func (e *escalator) bindIn(s Subject, u user.Info, ns, resource string) {
	create := res("create", rbacv1.GroupName, resource, "", ns, "")
	if e.via(u, create) == "" {
		return
	}
	held, _ := e.m.RulesFor(u, ns)
	type candidate struct {
		ref   rbacv1.RoleRef
		role  *Role
		shown Subject
	}
	var roles []candidate
	for _, name := range sortedKeys(e.m.clusterRoles) {
		roles = append(roles, candidate{rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: name}, e.m.clusterRoles[name], Subject{Kind: "ClusterRole", Name: name}})
	}
	if ns != "" {
		for _, key := range sortedKeys(e.m.roles) {
			if r := e.m.roles[key]; r.Namespace == ns {
				roles = append(roles, candidate{rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: r.Name}, r, Subject{Kind: "Role", Namespace: ns, Name: r.Name}})
			}
		}
	}
	for _, c := range roles {
		if ok, _ := validation.Covers(held, c.role.Rules); ok {
			continue // no gain: ConfirmNoEscalation allows it without bind
		}
		kind := "clusterroles"
		if c.ref.Kind == "Role" {
			kind = "roles"
		}
		bind := res("bind", rbacv1.GroupName, kind, "", ns, c.ref.Name)
		via := e.via(u, bind)
		if via == "" {
			continue
		}
		ref := c.ref
		e.add(s, "POST "+apiPath(rbacv1.GroupName, "v1", resource, "", ns, ""), c.shown, via, bind, &ref)
	}
}

// roles: escalate with update (of an existing role) or create lets a subject write a role with any rules.
func (e *escalator) roles(s Subject, u user.Info) {
	try := func(ns, resource, kind, name string) {
		verb, method := "update", "PUT "
		if name == anyName {
			verb, method = "create", "POST "
		}
		w := res(verb, rbacv1.GroupName, resource, "", ns, name)
		esc := res("escalate", rbacv1.GroupName, resource, "", ns, name)
		if e.via(u, w) == "" {
			return
		}
		via := e.via(u, esc)
		if via == "" {
			return
		}
		shown := name
		if name == anyName {
			shown = "*"
		}
		e.add(s, method+apiPath(rbacv1.GroupName, "v1", resource, "", ns, name), Subject{Kind: kind, Namespace: ns, Name: shown}, via, esc, nil)
	}
	try("", "clusterroles", "ClusterRole", anyName)
	for _, name := range sortedKeys(e.m.clusterRoles) {
		try("", "clusterroles", "ClusterRole", name)
	}
	for _, ns := range e.nss {
		try(ns, "roles", "Role", anyName)
		for _, key := range sortedKeys(e.m.roles) {
			if r := e.m.roles[key]; r.Namespace == ns {
				try(ns, "roles", "Role", r.Name)
			}
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// EscalationSubjects are the subjects whose hops Escalations lists when no --as is given: every
// subject named in a binding, system:masters excepted (it may do anything).
func (m *Model) EscalationSubjects() []Subject {
	var out []Subject
	for _, s := range diffSubjects(m) {
		if s.Kind == rbacv1.GroupKind && s.Name == user.SystemPrivilegedGroup {
			continue
		}
		out = append(out, s)
	}
	return out
}

// SubjectOf is the subject an impersonated user name stands for: a service account or a user.
func SubjectOf(name string) Subject {
	if ns, n, err := serviceaccount.SplitUsername(name); err == nil {
		return saSubject(ns, n)
	}
	return Subject{Kind: rbacv1.UserKind, Name: name}
}

// String reads "User alice: POST /api/v1/namespaces/x/pods → ServiceAccount x/default (via ...)".
func (h *Hop) String() string {
	return fmt.Sprintf("%s: %s → %s (via %s)", h.Subject, h.Request, h.Reaches, h.Via)
}
