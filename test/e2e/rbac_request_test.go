package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	auditv1 "k8s.io/apiserver/pkg/apis/audit/v1"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/client-go/rest"

	"github.com/verdict-dev/verdict/rbacsim"
	"github.com/verdict-dev/verdict/test/e2e/controlplane"
)

var (
	requestSeed  = flag.Uint64("rbac-request-seed", 20261201, "seed of the raw request test's objects and requests")
	requestCount = flag.Int("rbac-requests", 3000, "raw requests the raw request test sends")
)

// auditPolicy records every request at Metadata level, the authorization decision included; the
// RequestReceived stage is left out, the ResponseStarted stage of long-running requests is not.
const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: Metadata
`

// rawRequest is one request sent as a user, with the groups asked for by impersonation.
type rawRequest struct {
	auditID  string
	method   string
	target   string // path and query
	user     string
	asGroups []string
}

func (r rawRequest) line() string { return r.method + " " + r.target }

func (r rawRequest) String() string {
	return fmt.Sprintf("%s %s as %q groups %q", r.method, r.target, r.user, r.asGroups)
}

// TestRBACRequestAudit sends thousands of random raw requests, as impersonated users, to a real
// kube-apiserver that audits them, and checks for each audit event that rbacsim.ParseRequest
// derives from the request line what the API server recorded (verb, and objectRef's API group,
// resource, subresource, namespace and name), that rbacsim.EventAttributes (replay's reading of an
// event) gives the same attributes, and that rbacsim decides as the authorization.k8s.io/decision
// annotation says. Then it replays the audit log: against the same RBAC nothing changes, and
// against the RBAC with one binding removed exactly the requests that only that binding allowed are
// reported as refused.
func TestRBACRequestAudit(t *testing.T) {
	start := time.Now()
	dir := t.TempDir()
	policy, auditLog := filepath.Join(dir, "audit-policy.yaml"), filepath.Join(dir, "audit.log")
	if err := os.WriteFile(policy, []byte(auditPolicy), 0o644); err != nil {
		t.Fatal(err)
	}
	w := startRBACWorld(t, *requestSeed, controlplane.WithAPIServerFlags(map[string]string{
		"audit-policy-file": policy, "audit-log-path": auditLog, "audit-log-mode": "blocking",
	}))
	ctx, env, ready, bootstrap, g, objs := t.Context(), w.env, w.started, w.bootstrap, w.gen, w.objs
	model := modelOf(t, bootstrap, objs.yaml(t))
	w.synced(t, model)
	setup := time.Since(start)

	requests := newRequestGen(g).requests(*requestCount)
	sent := time.Now()
	sendAll(t, env.Config, requests)
	unauthenticated := sendUnauthenticated(t, env.Config)
	elapsed := time.Since(sent)

	// The requests the API server cannot resolve are answered 500 before they are audited.
	ids := map[string]string{}
	for _, r := range requests {
		if _, err := rbacsim.ParseRequest(r.line()); err == nil {
			ids[r.auditID] = r.String()
		}
	}
	events := waitAudited(t, auditLog, ids)

	// Each request: what the API server recorded against what verdict derives and decides.
	var diffs []string
	var allowed, unresolvable int
	for _, r := range requests {
		ev := events[r.auditID]
		want, perr := rbacsim.ParseRequest(r.line())
		if perr != nil {
			unresolvable++
			if ev != nil {
				diffs = append(diffs, fmt.Sprintf("%s: verdict: %v; kube-apiserver audited it: decision %q, status %v", r, perr,
					ev.Annotations[rbacsim.DecisionAnnotation], ev.ResponseStatus))
			}
			continue
		}
		decision := ev.Annotations[rbacsim.DecisionAnnotation]
		if d := recordedDiff(ev, want); d != "" {
			diffs = append(diffs, fmt.Sprintf("%s: %s", r, d))
		}
		if got, err := rbacsim.EventAttributes(ev); err != nil {
			diffs = append(diffs, fmt.Sprintf("%s: EventAttributes: %v", r, err))
		} else if a, b := describeAttrs(got), describeAttrs(&want); a != b {
			diffs = append(diffs, fmt.Sprintf("%s: EventAttributes %s, ParseRequest %s", r, a, b))
		}
		u, err := rbacsim.Impersonate(r.user, r.asGroups)
		if err != nil {
			t.Fatal(err)
		}
		if ev.ImpersonatedUser == nil || ev.ImpersonatedUser.Username != u.GetName() || !slices.Equal(ev.ImpersonatedUser.Groups, u.GetGroups()) {
			diffs = append(diffs, fmt.Sprintf("%s: impersonated user %v, rbacsim.Impersonate %q %q", r, ev.ImpersonatedUser, u.GetName(), u.GetGroups()))
		}
		want.User = u
		d, reason, err := model.Authorize(ctx, want)
		if err != nil {
			t.Fatal(err)
		}
		got := "forbid"
		if d == authorizer.DecisionAllow {
			got = "allow"
			allowed++
		}
		if got != decision {
			diffs = append(diffs, fmt.Sprintf("%s (%s): kube-apiserver %s (%q), rbacsim %s (%q)", r, rbacsim.Describe(want), decision,
				ev.Annotations["authorization.k8s.io/reason"], got, reason))
		}
	}
	t.Logf("seed %d: %d raw requests (%d allowed, %d the API server cannot resolve) sent in %s (%.0f/s), setup %s; %d audit events compared, %d unaudited as they should be; %d differences",
		*requestSeed, len(requests), allowed, unresolvable, elapsed.Round(time.Millisecond), float64(len(requests))/elapsed.Seconds(),
		setup.Round(time.Millisecond), len(requests)-unresolvable, unresolvable, len(diffs))
	if len(diffs) > 0 {
		t.Errorf("%d of %d requests differ (first %d):\n%s", len(diffs), len(requests), min(len(diffs), 25), strings.Join(diffs[:min(len(diffs), 25)], "\n"))
	}
	if allowed == 0 || allowed == len(requests) {
		t.Errorf("%d of %d requests allowed: the requests do not discriminate", allowed, len(requests))
	}
	if ev := events[unauthenticated]; ev.User.Username != "" || ev.ResponseStatus == nil || ev.ResponseStatus.Code != http.StatusUnauthorized {
		t.Errorf("the unauthenticated request's event: user %v, status %v", ev.User, ev.ResponseStatus)
	}

	// While it starts, the API server refuses what its bootstrap policy will allow (probes of
	// /healthz as system:anonymous): the same RBAC newly allows those, and only those.
	baseline := replayFile(t, model, auditLog, true)
	t.Run("replay, same RBAC", func(t *testing.T) {
		rep := baseline
		t.Logf("%d events, %d skipped (%v), %d refused while the API server started", rep.Summary.Events, rep.Summary.Skipped, rep.SkipNotes(), rep.Summary.NewlyAllowed)
		if rep.Summary.Refused != 0 {
			t.Errorf("summary %+v, want nothing refused; first requests: %+v", rep.Summary, rep.Requests[:min(len(rep.Requests), 5)])
		}
		for _, r := range rep.Requests {
			if at, err := time.Parse(time.RFC3339Nano, r.Time); err != nil || !at.Before(ready) || ids[r.AuditID] != "" {
				t.Errorf("newly allowed after the API server started: %+v", r)
			}
		}
		if rep.SkippedBy["the request was not authenticated"] == 0 {
			t.Errorf("the unauthenticated request was not skipped: %v", rep.SkipNotes())
		}
		if rep.Summary.Events <= len(requests) || rep.Summary.Skipped == 0 {
			t.Errorf("summary %+v: every event should be read, and some skipped", rep.Summary)
		}
	})

	t.Run("replay, one binding removed", func(t *testing.T) {
		// The binding that alone allowed the most requests, and those requests.
		only := map[string][]string{}
		for _, r := range requests {
			ev := events[r.auditID]
			if ev == nil || ev.Annotations[rbacsim.DecisionAnnotation] != "allow" {
				continue
			}
			attrs, err := rbacsim.EventAttributes(ev)
			if err != nil {
				t.Fatal(err)
			}
			e := model.Explain(attrs)
			if e.Masters {
				continue
			}
			by := map[string]bool{}
			for _, grant := range e.Grants {
				by[bindingOf(grant)] = true
			}
			if len(by) == 1 {
				for b := range by {
					only[b] = append(only[b], r.auditID)
				}
			}
		}
		var removed string
		for b, ids := range only {
			if len(ids) > len(only[removed]) || (len(ids) == len(only[removed]) && b < removed) {
				removed = b
			}
		}
		if removed == "" {
			t.Fatal("no binding alone allows any request")
		}
		rep := replayFile(t, modelOf(t, bootstrap, without(objs, removed).yaml(t)), auditLog, false)
		var got []string
		for _, r := range rep.Requests {
			got = append(got, r.AuditID)
			if r.Was != "allow" || r.Now != "deny" || r.Nearest == "" {
				t.Errorf("reported %+v", r)
			}
		}
		want := only[removed]
		slices.Sort(got)
		slices.Sort(want)
		t.Logf("removed %s: %d requests reported refused, %d only it allowed", removed, len(got), len(want))
		if !slices.Equal(got, want) || rep.Summary.Refused != len(want) || rep.Summary.NewlyAllowed != baseline.Summary.NewlyAllowed {
			t.Errorf("summary %+v; reported %d requests, want the %d that only %s allowed:\ngot  %v\nwant %v", rep.Summary, len(got), len(want), removed, got, want)
		}
	})
}

// modelOf is the model of the cluster's bootstrap policy and the generated manifests.
func modelOf(t *testing.T, bootstrap *rbacsim.Objects, manifests []byte) *rbacsim.Model {
	t.Helper()
	parsed, err := rbacsim.Parse("generated.yaml", manifests)
	if err != nil {
		t.Fatal(err)
	}
	all := &rbacsim.Objects{Sources: map[any]rbacsim.Source{}}
	all.Append(bootstrap)
	all.Append(parsed)
	return rbacsim.NewModel(all)
}

// bindingOf is the binding of an Explain grant, "RoleBinding ns-a/rb-1 of Role ns-a/role-2 rule #1".
func bindingOf(grant string) string {
	b, _, _ := strings.Cut(grant, " of ")
	return b
}

// without is objs less one binding, named as rbacsim names it ("RoleBinding ns-a/rb-1").
func without(objs *parityObjects, binding string) *parityObjects {
	out := *objs
	out.clusterRoleBindings = slices.DeleteFunc(slices.Clone(objs.clusterRoleBindings), func(b *rbacv1.ClusterRoleBinding) bool {
		return "ClusterRoleBinding "+b.Name == binding
	})
	out.roleBindings = slices.DeleteFunc(slices.Clone(objs.roleBindings), func(b *rbacv1.RoleBinding) bool {
		return "RoleBinding "+b.Namespace+"/"+b.Name == binding
	})
	return &out
}

func replayFile(t *testing.T, model *rbacsim.Model, path string, all bool) *rbacsim.ReplayReport {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rep, err := model.Replay(t.Context(), path, f, all)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// recordedDiff compares what the API server recorded of a request with the attributes verdict derives.
func recordedDiff(ev *auditv1.Event, want authorizer.AttributesRecord) string {
	if ev.Verb != want.Verb {
		return fmt.Sprintf("verb: kube-apiserver %q, verdict %q", ev.Verb, want.Verb)
	}
	if (ev.ObjectRef != nil) != want.ResourceRequest {
		return fmt.Sprintf("resource request: kube-apiserver %v, verdict %v", ev.ObjectRef != nil, want.ResourceRequest)
	}
	if o := ev.ObjectRef; o != nil {
		got := fmt.Sprintf("group=%q resource=%q subresource=%q namespace=%q name=%q", o.APIGroup, o.Resource, o.Subresource, o.Namespace, o.Name)
		if w := fmt.Sprintf("group=%q resource=%q subresource=%q namespace=%q name=%q", want.APIGroup, want.Resource, want.Subresource, want.Namespace, want.Name); got != w {
			return fmt.Sprintf("objectRef: kube-apiserver %s, verdict %s", got, w)
		}
	}
	return ""
}

func describeAttrs(a authorizer.Attributes) string {
	return fmt.Sprintf("%v %s path=%q version=%q", a.IsResourceRequest(), rbacsim.Describe(a), a.GetPath(), a.GetAPIVersion())
}

// sendAll sends every request as its user, on a few streams, with its audit ID, and closes each
// answer once its headers arrive (which ends a watch).
func sendAll(t *testing.T, cfg *rest.Config, requests []rawRequest) {
	t.Helper()
	client, err := rest.HTTPClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	host := strings.TrimSuffix(cfg.Host, "/")
	errs := make([]error, len(requests))
	var wg sync.WaitGroup
	const workers = 8
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(requests); i += workers {
				r := requests[i]
				var body io.Reader
				if r.method == http.MethodPost || r.method == http.MethodPut || r.method == http.MethodPatch {
					body = bytes.NewReader(nil) // an empty body: refused after authorization, before it names an object
				}
				ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
				req, err := http.NewRequestWithContext(ctx, r.method, host+r.target, body)
				if err != nil {
					cancel()
					errs[i] = err
					continue
				}
				req.Header.Set("Audit-ID", r.auditID)
				req.Header.Set("Impersonate-User", r.user)
				for _, g := range r.asGroups {
					req.Header.Add("Impersonate-Group", g)
				}
				if body != nil {
					req.Header.Set("Content-Type", "application/json")
				}
				resp, err := client.Do(req)
				if err != nil {
					cancel()
					errs[i] = err
					continue
				}
				// The answer does not matter, only the audit event: a watch ends here.
				resp.Body.Close()
				cancel()
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("request %d (%s): %v", i, requests[i], err)
		}
	}
}

// sendUnauthenticated sends one request with a token the API server does not know, and returns its
// audit ID.
func sendUnauthenticated(t *testing.T, cfg *rest.Config) string {
	t.Helper()
	const id = "unauthenticated-0"
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, strings.TrimSuffix(cfg.Host, "/")+"/api/v1/namespaces/ns-a/pods", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer not-a-token")
	req.Header.Set("Audit-ID", id)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a request with an unknown token: status %d, want 401", resp.StatusCode)
	}
	return id
}

// waitAudited reads the audit log until it holds the final event (ResponseComplete or Panic) of
// every audit ID of ids, and returns the events of the log by audit ID: the final one of each
// request of ids, the last one of any other (a request that authentication refused has only a
// ResponseStarted event).
func waitAudited(t *testing.T, path string, ids map[string]string) map[string]*auditv1.Event {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		events := map[string]*auditv1.Event{}
		stages := map[string][]string{}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		err = rbacsim.ReadAuditEvents(path, f, func(ev *auditv1.Event) error {
			id := string(ev.AuditID)
			stages[id] = append(stages[id], string(ev.Stage))
			final := ev.Stage == auditv1.StageResponseComplete || ev.Stage == auditv1.StagePanic
			if _, wanted := ids[id]; final || !wanted {
				events[id] = ev
			}
			return nil
		})
		f.Close()
		done := 0
		for id := range ids {
			if events[id] != nil {
				done++
			}
		}
		if done == len(ids) {
			return events
		}
		if time.Now().After(deadline) {
			var missing []string
			for id, what := range ids {
				if events[id] == nil && len(missing) < 20 {
					missing = append(missing, fmt.Sprintf("%s: stages %v", what, stages[id]))
				}
			}
			t.Fatalf("the audit log holds the final events of %d of %d requests after 30s (last error %v); some missing:\n%s",
				done, len(ids), err, strings.Join(missing, "\n"))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// --- requests ---

// requestGen draws raw requests: half aimed at rules of the generated bindings (a parity question
// written as the request that asks it), half built at random from the API server's URL forms.
type requestGen struct {
	*parityGen
	n int
}

func newRequestGen(g *parityGen) *requestGen { return &requestGen{parityGen: g} }

var (
	reqGroups    = []string{"", "", "apps", "batch", "example.com", "rbac.authorization.k8s.io"}
	reqResources = map[string][]string{
		"":                          {"pods", "secrets", "configmaps", "services", "serviceaccounts", "nodes", "widgets"},
		"apps":                      {"deployments", "pods"},
		"batch":                     {"jobs"},
		"example.com":               {"widgets"},
		"rbac.authorization.k8s.io": {"roles", "clusterroles", "rolebindings"},
	}
	reqSubs     = []string{"log", "exec", "status", "scale", "proxy", "token", "ephemeralcontainers", "binding"}
	reqURLPaths = []string{"/healthz", "/healthz/etcd", "/livez", "/readyz?verbose", "/version", "/api", "/api/v1", "/apis", "/apis/apps",
		"/apis/apps/v1", "/logs", "/logs/kube", "/x", "/", "/metrics/slis", "/openapi/v3", "/.well-known/openid-configuration", "/api/v1/", "/apis/apps/"}
	reqMethods = []string{"GET", "GET", "GET", "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "DELETE", "OPTIONS"}
)

func (g *requestGen) requests(n int) []rawRequest {
	out := make([]rawRequest, 0, n)
	for len(out) < n {
		var r rawRequest
		ok := false
		if g.Rand.IntN(2) == 0 {
			q := g.aimedQuestion()
			if g.Rand.IntN(3) == 0 {
				g.perturb(&q)
			}
			r, ok = g.fromQuestion(q)
		}
		if !ok {
			r = g.randomRequest()
		}
		if r.method != "GET" && r.method != "HEAD" && r.method != "OPTIONS" {
			// Never change the RBAC world, nor anything else: a dry run is authorized as the real request.
			r.target = withQuery(r.target, "dryRun=All")
		}
		r.auditID = fmt.Sprintf("verdict-%d-%d", *requestSeed, g.n)
		g.n++
		out = append(out, r)
	}
	return out
}

func withQuery(target, q string) string {
	if strings.Contains(target, "?") {
		return target + "&" + q
	}
	return target + "?" + q
}

// asUser is a user and the groups it asks for by impersonation.
func (g *requestGen) asUser(r *rawRequest) {
	r.user = g.Pick(parityUsers)
	switch g.Rand.IntN(10) {
	case 0, 1, 2:
		r.asGroups = g.Some(paritySubjGroups[:7], 2, 0)
	case 3:
		r.asGroups = []string{"system:masters"}
	}
}

// fromQuestion is the raw request that asks a parity question, when there is one.
func (g *requestGen) fromQuestion(q parityQuestion) (rawRequest, bool) {
	r := rawRequest{user: q.user}
	if u, _ := rbacsim.Impersonate(q.user, nil); !slices.Equal(u.GetGroups(), q.groups) {
		r.asGroups = q.groups
	}
	if !q.resource {
		method := strings.ToUpper(q.verb)
		if !slices.Contains([]string{"GET", "HEAD", "POST", "PUT", "DELETE"}, method) {
			return r, false
		}
		r.method, r.target = method, q.path
		return r, true
	}
	if q.group == "*" || q.res == "*" || q.ns == "*" || q.sub == "*" || q.name == "*" {
		return r, false
	}
	prefix := "/api/v1"
	if q.group != "" {
		prefix = "/apis/" + q.group + "/v1"
	}
	coll := prefix
	if q.ns != "" {
		coll += "/namespaces/" + q.ns
	}
	coll += "/" + q.res
	obj := coll + "/" + q.name
	if q.sub != "" {
		if q.name == "" {
			return r, false
		}
		obj += "/" + q.sub
	}
	named := q.name != "" || q.sub != ""
	switch q.verb {
	case "get":
		if !named {
			return r, false
		}
		r.method, r.target = "GET", obj
	case "list":
		r.method, r.target = "GET", coll
		if named {
			if q.sub != "" {
				return r, false
			}
			r.target = coll + "?fieldSelector=metadata.name%3D" + q.name
		}
	case "watch":
		r.method, r.target = "GET", coll+"?watch=1"
		switch {
		case q.sub != "":
			return r, false
		case named && g.Rand.IntN(2) == 0:
			r.target = coll + "?watch=true&fieldSelector=metadata.name%3D" + q.name
		case named:
			r.target = strings.Replace(obj, "/v1/", "/v1/watch/", 1)
		case g.Rand.IntN(2) == 0:
			r.target = strings.Replace(coll, "/v1/", "/v1/watch/", 1)
		}
	case "create":
		r.method, r.target = "POST", coll
		if named {
			if q.sub == "" {
				return r, false
			}
			r.target = obj
		}
	case "update", "patch", "delete":
		if !named {
			return r, false
		}
		r.method, r.target = map[string]string{"update": "PUT", "patch": "PATCH", "delete": "DELETE"}[q.verb], obj
	case "deletecollection":
		if named {
			return r, false
		}
		r.method, r.target = "DELETE", coll
	default:
		return r, false
	}
	return r, true
}

// randomRequest is a request in one of the API server's URL forms, at random.
func (g *requestGen) randomRequest() rawRequest {
	r := rawRequest{method: g.Pick(reqMethods)}
	g.asUser(&r)
	group := g.Pick(reqGroups)
	prefix := "/api/v1"
	if group != "" {
		prefix = "/apis/" + group + "/v1"
	}
	res := g.Pick(reqResources[group])
	ns := ""
	if res != "nodes" && res != "clusterroles" && g.Rand.IntN(4) != 0 {
		ns = g.Pick(append(g.Namespaces, "ns-d"))
	}
	scope := ""
	if ns != "" {
		scope = "/namespaces/" + ns
	}
	name := g.Pick(append(parityNames, "other"))
	switch g.Rand.IntN(14) {
	case 0, 1, 2: // a collection
		r.target = prefix + scope + "/" + res + g.Pick([]string{"", "", "?watch=1", "?watch=true", "?watch=false", "?watch=0", "?limit=5",
			"?fieldSelector=metadata.name%3D" + name, "?fieldSelector=metadata.name%3D" + name + "&watch=1", "?labelSelector=a%3Db",
			"?fieldSelector=metadata.name!%3D" + name, "?fieldSelector=spec.nodeName%3Dn1,metadata.name%3D" + name, "?limit=x&watch=1", "?resourceVersion=0&watch=true"})
	case 3, 4: // an object
		r.target = prefix + scope + "/" + res + "/" + name
	case 5, 6: // a subresource
		r.target = prefix + scope + "/" + res + "/" + name + "/" + g.Pick(reqSubs)
		if strings.HasSuffix(r.target, "/proxy") && g.Rand.IntN(2) == 0 {
			r.target += "/some/path"
		}
	case 7: // the legacy watch prefix
		r.target = prefix + "/watch" + scope + "/" + res
		if g.Rand.IntN(2) == 0 {
			r.target += "/" + name
		}
	case 8: // the legacy proxy prefix
		r.target = prefix + "/proxy" + scope + "/" + res + "/" + name
		if g.Rand.IntN(2) == 0 {
			r.target += "/some/path"
		}
	case 9: // namespaces
		r.target = "/api/v1/namespaces" + g.Pick([]string{"", "/" + g.Pick(g.Namespaces), "/ns-a/status", "/ns-b/finalize", "/ns-d"})
	case 10, 11: // a non-resource URL
		r.target = g.Pick(reqURLPaths)
		if r.method == "OPTIONS" || r.method == "PATCH" {
			r.method = "GET"
		}
	case 12: // a URL the API server cannot resolve (it answers 500)
		r.method, r.target = "GET", g.Pick([]string{"/api/v1/watch", "/apis/apps/v1/proxy", "/api/v1/proxy"})
	default: // cluster-wide
		r.target = prefix + "/" + res + g.Pick([]string{"", "?watch=1", "/" + name})
	}
	return r
}
