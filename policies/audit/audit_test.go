package audit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	dynamicfake "k8s.io/client-go/dynamic/fake"

	"github.com/verdict-dev/verdict/internal/testkit"
	"github.com/verdict-dev/verdict/manifest"
	"github.com/verdict-dev/verdict/policies/bundle"
)

// golden compares got with testdata/golden/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	testkit.Golden(t, filepath.Join("testdata", "golden", name), got)
}

// The fixtures of the end-to-end test, judged here without a cluster.
const fixtures = "../../test/e2e/testdata/cluster"

// fakeDiscovery serves a fixed list of resources.
type fakeDiscovery []*metav1.APIResourceList

func (d fakeDiscovery) ServerPreferredResources() ([]*metav1.APIResourceList, error) { return d, nil }

func resources(gv string, namespaced bool, names ...string) *metav1.APIResourceList {
	l := &metav1.APIResourceList{GroupVersion: gv}
	for _, n := range names {
		kind, plural, _ := strings.Cut(n, "=")
		l.APIResources = append(l.APIResources, metav1.APIResource{Name: plural, Kind: kind, Namespaced: namespaced, Verbs: []string{"get", "list", "watch"}},
			metav1.APIResource{Name: plural + "/status", Kind: kind, Namespaced: namespaced, Verbs: []string{"get"}})
	}
	return l
}

var served = fakeDiscovery{
	resources("v1", false, "Namespace=namespaces"),
	resources("v1", true, "Pod=pods", "ConfigMap=configmaps", "Service=services", "ServiceAccount=serviceaccounts"),
	resources("apps/v1", true, "Deployment=deployments"),
	resources("batch/v1", true, "CronJob=cronjobs"),
}

// readDocs reads manifests of the fixtures.
func readDocs(t *testing.T, names ...string) []manifest.Document {
	t.Helper()
	var paths []string
	for _, n := range names {
		paths = append(paths, filepath.Join(fixtures, n))
	}
	set := manifest.Read(paths, nil)
	if err := set.Err(); err != nil {
		t.Fatal(err)
	}
	return set.Documents
}

// fixture is the policies and objects of the end-to-end test: a bundle that knows the Namespaces,
// and a fake cluster that holds the objects, each with a uid, and pages its lists.
func fixture(t *testing.T) (*bundle.Bundle, *pagingClient) {
	t.Helper()
	objects := readDocs(t, "audit/objects.yaml")
	b, err := bundle.Load(context.Background(), bundle.Options{
		Paths:   []string{filepath.Join(fixtures, "team-label.yaml"), filepath.Join(fixtures, "audit", "policies.yaml"), filepath.Join(fixtures, "audit", "extra", "no-latest.yaml")},
		Objects: objects,
	})
	if err != nil {
		t.Fatal(err)
	}
	var objs []runtime.Object
	for i, d := range objects {
		d.Object.SetUID(types.UID("uid-" + strconv.Itoa(i+1)))
		objs = append(objs, d.Object)
	}
	listKinds := map[schema.GroupVersionResource]string{}
	for _, l := range served {
		gv, _ := schema.ParseGroupVersion(l.GroupVersion)
		for _, r := range l.APIResources {
			listKinds[gv.WithResource(r.Name)] = r.Kind + "List"
		}
	}
	client := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), listKinds, objs...)
	return b, newPagingClient(client)
}

// pagingClient pages the fake client's lists by limit and continue, as the API server does (the
// fake client itself returns every object at once), and records every list request.
type pagingClient struct {
	dynamic.Interface
	lists []string // resource, limit and continue of each list request
}

func newPagingClient(c dynamic.Interface) *pagingClient { return &pagingClient{Interface: c} }

func (p *pagingClient) Resource(gvr schema.GroupVersionResource) dynamic.NamespaceableResourceInterface {
	return pagingResource{NamespaceableResourceInterface: p.Interface.Resource(gvr), gvr: gvr, client: p}
}

type pagingResource struct {
	dynamic.NamespaceableResourceInterface
	gvr    schema.GroupVersionResource
	client *pagingClient
}

func (r pagingResource) List(ctx context.Context, opts metav1.ListOptions) (*unstructured.UnstructuredList, error) {
	r.client.lists = append(r.client.lists, fmt.Sprintf("%s limit=%d continue=%q", r.gvr.Resource, opts.Limit, opts.Continue))
	list, err := r.NamespaceableResourceInterface.List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	start := 0
	if opts.Continue != "" {
		start, _ = strconv.Atoi(opts.Continue)
	}
	end := len(list.Items)
	if opts.Limit > 0 && start+int(opts.Limit) < end {
		end = start + int(opts.Limit)
		list.SetContinue(strconv.Itoa(end))
	}
	list.Items = list.Items[start:end]
	return list, nil
}

var auditTime = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func runFixture(t *testing.T, pageSize int64, progress *bytes.Buffer) (*Report, *pagingClient) {
	t.Helper()
	b, client := fixture(t)
	opts := Options{Policies: b, Discovery: served, Client: client, PageSize: pageSize, Now: func() time.Time { return auditTime }}
	if progress != nil {
		opts.Progress = progress
	}
	r, err := Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return r, client
}

// TestFormats writes the audit of the fixtures in every format, coverage included.
func TestFormats(t *testing.T) {
	r, _ := runFixture(t, 0, nil)
	for _, tc := range []struct {
		format, file string
		coverage     bool
	}{
		{"table", "report.table", false},
		{"table", "coverage.table", true},
		{"json", "coverage.json", true},
		{"policyreport", "report.policyreport.yaml", false},
	} {
		t.Run(tc.file, func(t *testing.T) {
			var buf bytes.Buffer
			if err := r.Write(&buf, tc.format, tc.coverage); err != nil {
				t.Fatal(err)
			}
			golden(t, tc.file, buf.Bytes())
		})
	}
}

// TestPaging: every kind is listed in pages of PageSize, and every object of every page is judged.
func TestPaging(t *testing.T) {
	r, client := runFixture(t, 1, nil)
	if r.Objects != 9 {
		t.Errorf("judged %d objects, want 9", r.Objects)
	}
	var deployments []string
	for _, l := range client.lists {
		if strings.HasPrefix(l, "deployments ") {
			deployments = append(deployments, l)
		}
	}
	want := []string{`deployments limit=1 continue=""`, `deployments limit=1 continue="1"`, `deployments limit=1 continue="2"`}
	if diff := cmp.Diff(want, deployments); diff != "" {
		t.Errorf("list requests of deployments (-want +got):\n%s", diff)
	}
	for _, l := range client.lists {
		if strings.HasPrefix(l, "services ") || strings.HasPrefix(l, "serviceaccounts ") {
			t.Errorf("%s: a kind no policy takes was listed", l)
		}
	}
}

// TestResults: what each policy says of each object, passes included (one per pair that judged
// the object and found nothing).
func TestResults(t *testing.T) {
	r, _ := runFixture(t, 0, nil)
	got := map[string][]string{}
	for _, e := range r.Entries {
		obj := e.Object.Kind + " " + e.Object.Namespace + "/" + e.Object.Name
		got[obj] = append(got[obj], fmt.Sprintf("%s %s/%s", e.Result, e.Policy.Policy, e.Policy.Binding))
	}
	tests := []struct {
		object string
		want   []string
	}{
		{"Deployment shop/web", []string{"pass max-replicas/max-replicas-prod", "pass k8steamlabel/deployments-need-a-team"}},
		{"Deployment shop/big", []string{"fail max-replicas/max-replicas-prod", "fail max-replicas/max-replicas-prod", "pass k8steamlabel/deployments-need-a-team"}},
		{"Deployment lab/stray", []string{"warn max-replicas/max-replicas-elsewhere", "fail k8steamlabel/deployments-need-a-team"}},
		{"ConfigMap shop/settings", []string{"fail k8steamlabel/prod-configmaps-need-an-owner"}},
		{"ConfigMap shop/owned", []string{"pass k8steamlabel/prod-configmaps-need-an-owner"}},
		{"Pod lab/latest", []string{"fail no-latest-tag/no-latest-tag"}},
		{"Pod shop/pinned", []string{"pass no-latest-tag/no-latest-tag"}},
		{"Namespace /shop", []string{"pass k8steamlabel/namespaces-need-a-tier"}},
		{"Namespace /lab", []string{"warn k8steamlabel/namespaces-need-a-tier"}},
	}
	for _, tc := range tests {
		t.Run(tc.object, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, got[tc.object]); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	if len(got) != len(tests) {
		t.Errorf("results for %d objects, want %d: %v", len(got), len(tests), got)
	}
}

// TestProgress: a line per kind listed, and a closing line.
func TestProgress(t *testing.T) {
	var progress bytes.Buffer
	runFixture(t, 0, &progress)
	want := `audit: listing namespaces (kind 1 of 7), 0 objects judged so far
audit: listing pods (kind 2 of 7), 2 objects judged so far
audit: listing configmaps (kind 3 of 7), 4 objects judged so far
audit: listing deployments.apps (kind 6 of 7), 6 objects judged so far
audit: listing cronjobs.batch (kind 7 of 7), 9 objects judged so far
audit: done: 9 objects of 5 kinds judged
`
	if diff := cmp.Diff(want, progress.String()); diff != "" {
		t.Errorf("progress (-want +got):\n%s", diff)
	}
}

// forbiddingClient refuses to list one resource, as RBAC refuses a kind the user may not list.
type forbiddingClient struct {
	*pagingClient
	resource string
}

func (f forbiddingClient) Resource(gvr schema.GroupVersionResource) dynamic.NamespaceableResourceInterface {
	if gvr.Resource == f.resource {
		return forbiddenResource{f.pagingClient.Resource(gvr), gvr}
	}
	return f.pagingClient.Resource(gvr)
}

type forbiddenResource struct {
	dynamic.NamespaceableResourceInterface
	gvr schema.GroupVersionResource
}

func (r forbiddenResource) List(context.Context, metav1.ListOptions) (*unstructured.UnstructuredList, error) {
	return nil, apierrors.NewForbidden(r.gvr.GroupResource(), "", errors.New("RBAC: access denied"))
}

// TestUnlisted: a kind that cannot be listed is an error of the report, naming it, and every other
// kind is still judged.
func TestUnlisted(t *testing.T) {
	b, client := fixture(t)
	r, err := Run(context.Background(), Options{Policies: b, Discovery: served, Client: forbiddingClient{client, "pods"}, Now: func() time.Time { return auditTime }})
	if err != nil {
		t.Fatal(err)
	}
	if !r.Failed() || len(r.Unlisted) != 1 || !strings.HasPrefix(r.Unlisted[0], "listing pods (v1): ") || !strings.Contains(r.Unlisted[0], "forbidden") {
		t.Errorf("unlisted %q, want pods named with the API server's refusal", r.Unlisted)
	}
	if r.Objects != 7 {
		t.Errorf("judged %d objects, want the 7 that are not pods", r.Objects)
	}
	if errs := r.Check().Errors; len(errs) != 1 || errs[0].Message != r.Unlisted[0] {
		t.Errorf("check-shaped errors %+v, want the unlisted kind", errs)
	}
}
