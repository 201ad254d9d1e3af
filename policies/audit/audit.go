package audit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/pager"

	"github.com/verdict-dev/verdict/manifest"
	"github.com/verdict-dev/verdict/policies"
	"github.com/verdict-dev/verdict/policies/bundle"
	"github.com/verdict-dev/verdict/policies/gatekeeper"
	"github.com/verdict-dev/verdict/policies/regomod"
)

// Options are the inputs of an audit.
type Options struct {
	// Policies is the compiled set to judge with.
	Policies *bundle.Bundle
	// Discovery tells which kinds the cluster serves; Client lists their objects.
	Discovery Discovery
	Client    dynamic.Interface
	// PageSize is how many objects one list request asks for; DefaultPageSize when zero.
	PageSize int64
	// Timeout bounds the judging of one object; policies.DefaultTimeout when zero.
	Timeout time.Duration
	// Progress, when set, is told what is listed: a line per kind, and one every ProgressEvery objects.
	Progress io.Writer
	// Now is the clock of the report's time; time.Now when nil.
	Now func() time.Time
}

// Discovery tells which kinds the cluster serves, each in its preferred version, as client-go's
// discovery client does.
type Discovery interface {
	ServerPreferredResources() ([]*metav1.APIResourceList, error)
}

var _ Discovery = (discovery.DiscoveryInterface)(nil)

// DefaultPageSize is how many objects one list request asks for, as kubectl's --chunk-size.
const DefaultPageSize = 500

// ProgressEvery is how many objects are judged between two progress lines within a kind.
const ProgressEvery = 1000

// Run lists and judges the objects of every kind some policy takes, page by page, each as it is
// listed. Its error is a cluster whose kinds cannot be discovered; a kind that cannot be listed
// and an object that cannot be judged are errors of the report, and the others are still judged.
func Run(ctx context.Context, opts Options) (*Report, error) {
	lists, err := opts.Discovery.ServerPreferredResources()
	if err != nil && len(lists) == 0 {
		return nil, fmt.Errorf("asking which kinds the cluster serves: %w", err)
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	a := &auditor{opts: opts, report: &Report{Time: now()}, judged: map[refKey]bool{},
		view: &manifest.View{Resources: opts.Policies.Resources()}}
	if err != nil {
		a.report.Notes = append(a.report.Notes, "discovery was partial, some kinds were not listed: "+err.Error())
	}
	resources := listable(lists)
	for i, res := range resources {
		if len(opts.Policies.Selects(res, policies.Update)) == 0 {
			a.report.Uncovered = append(a.report.Uncovered, resourceName(res.Resource))
			continue
		}
		a.progress("listing %s (kind %d of %d), %d objects judged so far", resourceName(res.Resource), i+1, len(resources), a.report.Objects)
		if err := a.list(ctx, res); err != nil {
			if ctx.Err() != nil {
				return nil, err
			}
			// A kind this user may not list, or an aggregated API that fails: the others are judged.
			a.report.Unlisted = append(a.report.Unlisted, err.Error())
			a.report.Errors++
		}
	}
	for _, ref := range opts.Policies.Validating() {
		if !a.judged[keyOf(ref)] {
			a.report.Unused = append(a.report.Unused, ref)
		}
	}
	a.progress("done: %d objects of %d kinds judged", a.report.Objects, len(a.report.Kinds))
	return a.report, nil
}

type auditor struct {
	opts   Options
	report *Report
	view   *manifest.View
	// judged holds the policies that judged some object.
	judged map[refKey]bool
}

// refKey names a policy and binding, whichever engine judged.
type refKey struct{ kind, policy, binding string }

func keyOf(r policies.Ref) refKey { return refKey{r.Format, r.Policy, r.Binding} }

// listable are the kinds served in their preferred versions that can be listed, subresources aside.
func listable(lists []*metav1.APIResourceList) []policies.Resource {
	var out []policies.Resource
	for _, l := range lists {
		gv, err := schema.ParseGroupVersion(l.GroupVersion)
		if err != nil {
			continue
		}
		for _, r := range l.APIResources {
			if strings.Contains(r.Name, "/") || !hasVerb(r.Verbs, "list") {
				continue
			}
			out = append(out, policies.Resource{Kind: gv.WithKind(r.Kind), Resource: gv.WithResource(r.Name), Namespaced: r.Namespaced})
		}
	}
	return out
}

func hasVerb(verbs []string, verb string) bool {
	for _, v := range verbs {
		if v == verb {
			return true
		}
	}
	return false
}

// resourceName names a resource as kubectl does: deployments.apps, pods.
func resourceName(gvr schema.GroupVersionResource) string {
	if gvr.Group == "" {
		return gvr.Resource
	}
	return gvr.Resource + "." + gvr.Group
}

// list judges every object of res, page by page.
func (a *auditor) list(ctx context.Context, res policies.Resource) error {
	p := pager.New(pager.SimplePageFunc(func(o metav1.ListOptions) (runtime.Object, error) {
		return a.opts.Client.Resource(res.Resource).List(ctx, o)
	}))
	p.PageSize = a.opts.PageSize
	if p.PageSize <= 0 {
		p.PageSize = DefaultPageSize
	}
	kind := Kind{Resource: resourceName(res.Resource), Kind: res.Kind.Kind}
	err := p.EachListItem(ctx, metav1.ListOptions{}, func(obj runtime.Object) error {
		u, ok := obj.(*unstructured.Unstructured)
		if !ok {
			return fmt.Errorf("an item of type %T", obj)
		}
		a.judge(ctx, res, u)
		kind.Objects++
		if kind.Objects%ProgressEvery == 0 {
			a.progress("listing %s, %d objects judged so far", kind.Resource, a.report.Objects)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("listing %s (%s): %w", kind.Resource, res.Resource.GroupVersion(), err)
	}
	a.report.Kinds = append(a.report.Kinds, kind)
	return nil
}

func (a *auditor) progress(format string, args ...any) {
	if a.opts.Progress != nil {
		fmt.Fprintf(a.opts.Progress, "audit: "+format+"\n", args...)
	}
}

// judge judges one object as an UPDATE of itself and records what every policy said of it.
func (a *auditor) judge(ctx context.Context, res policies.Resource, obj *unstructured.Unstructured) {
	if obj.GetKind() == "" {
		obj.SetGroupVersionKind(res.Kind) // a list's items may come without
	}
	ref := Object{APIVersion: obj.GetAPIVersion(), Kind: obj.GetKind(), Namespace: obj.GetNamespace(), Name: obj.GetName(), UID: string(obj.GetUID())}
	a.report.Objects++
	ref.RequestNamespace = ref.Namespace
	req, _, err := bundle.Present(a.view, obj, policies.Update)
	if err != nil {
		a.add(Entry{Object: ref, Result: Error, Message: err.Error()})
		return
	}
	ref.RequestNamespace = req.Namespace
	req.Resource = res.Resource // the cluster's own name for it
	timeout := a.opts.Timeout
	if timeout <= 0 {
		timeout = policies.DefaultTimeout
	}
	objCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	a.record(ref, a.opts.Policies.Validate(objCtx, req))
}

// record adds the findings of an outcome, its failed evaluations, and a pass for every policy that
// judged the object and found nothing.
func (a *auditor) record(obj Object, out policies.Outcome) {
	said := map[refKey]bool{}
	var denied, warned bool
	for _, f := range out.Findings {
		ref := policies.RefOf(f)
		said[keyOf(ref)] = true
		a.add(Entry{Object: obj, Policy: ref, Result: resultOf(f.Action), Action: f.Action, Message: f.Message})
		denied = denied || f.Action == policies.Deny
		warned = warned || f.Action == policies.Warn
	}
	for _, err := range out.Errors {
		ref := refOfError(err)
		said[keyOf(ref)] = true
		a.add(Entry{Object: obj, Policy: ref, Result: Error, Message: "policy evaluation failed: " + err.Error()})
	}
	for _, ref := range out.Judged {
		a.judged[keyOf(ref)] = true
		if !said[keyOf(ref)] {
			said[keyOf(ref)] = true // one pass per pair
			a.add(Entry{Object: obj, Policy: ref, Result: Pass})
		}
	}
	if denied {
		a.report.Denied++
	}
	if warned {
		a.report.Warned++
	}
}

func (a *auditor) add(e Entry) {
	a.report.Entries = append(a.report.Entries, e)
	if e.Result == Error {
		a.report.Errors++
	}
}

// refOfError names the policy of a failed evaluation, where the error says it.
func refOfError(err error) policies.Ref {
	if ge, ok := errors.AsType[*gatekeeper.EvalError](err); ok {
		return policies.Ref{Policy: ge.Template, Binding: ge.Constraint, Engine: ge.Engine, Format: gatekeeper.FindingFormat}
	}
	if re, ok := errors.AsType[*regomod.EvalError](err); ok {
		return policies.Ref{Policy: re.Package, Engine: policies.Rego, Format: regomod.FindingFormat}
	}
	return policies.Ref{}
}
