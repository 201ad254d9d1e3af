package e2e

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"

	"github.com/verdict-dev/verdict/manifest"
	"github.com/verdict-dev/verdict/test/e2e/controlplane"

	"github.com/verdict-dev/verdict/internal/testkit"
)

var dumpResources = flag.String("dump-resources", "", "write the built-in resources that the control plane's discovery reports to this file (make resources), instead of comparing them with manifest's")

// resourcesFile is manifest's embedded table of built-in resources, relative to this package.
const resourcesFile = "../../manifest/builtin_resources.json"

// TestBuiltinResources checks that manifest's table of built-in resources is what the discovery of a
// default kube-apiserver reports. With -dump-resources=PATH it writes the table instead.
func TestBuiltinResources(t *testing.T) {
	env := controlplane.Start(t)
	info, err := env.Clientset.Discovery().ServerVersion()
	if err != nil {
		t.Fatal(err)
	}
	if info.GitVersion != wantServerVersion {
		t.Fatalf("server gitVersion = %q, want %q", info.GitVersion, wantServerVersion)
	}
	resources := stableDiscovery(t, env.Clientset.Discovery())
	got := builtinResourcesJSON(t, resources)
	if *dumpResources != "" {
		if err := os.WriteFile(*dumpResources, got, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s: %d resources", *dumpResources, len(resources))
		return
	}
	want, err := os.ReadFile(resourcesFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is not the discovery of kube-apiserver %s: run make resources\n%s", resourcesFile, wantServerVersion, testkit.LineDiff(string(want), string(got)))
	}
	if embedded := manifest.BuiltinAPIResources(); !reflect.DeepEqual(embedded, resources) {
		t.Errorf("manifest.BuiltinAPIResources() is not the table in %s (rebuild the test binary?)", resourcesFile)
	}
}

// stableDiscovery reads the server's discovery until two reads in a row agree, since the aggregated
// discovery of a new kube-apiserver may still be filling in.
func stableDiscovery(t *testing.T, dc discovery.DiscoveryInterface) []manifest.APIResource {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	var last []manifest.APIResource
	for {
		groups, lists, err := discovery.ServerGroupsAndResources(dc)
		if err == nil {
			cur, err := discoveredResources(groups, lists)
			if err != nil {
				t.Fatal(err)
			}
			if last != nil && reflect.DeepEqual(cur, last) {
				return cur
			}
			last = cur
		}
		if time.Now().After(deadline) {
			t.Fatalf("the discovery of the control plane is not stable after a minute (last error: %v)", err)
		}
		time.Sleep(time.Second)
	}
}

// discoveredResources turns discovery into the table's entries: one per group, version and resource,
// groups and versions in the order the group list gives them (ServerGroupsAndResources returns the
// resource lists of aggregated discovery in no order), resources in the order their list gives them,
// subresources folded into their parent, and resources without a kind left out.
func discoveredResources(groups []*metav1.APIGroup, lists []*metav1.APIResourceList) ([]manifest.APIResource, error) {
	byGV := map[string]*metav1.APIResourceList{}
	for _, l := range lists {
		byGV[l.GroupVersion] = l
	}
	var out []manifest.APIResource
	for _, g := range groups {
		for _, v := range g.Versions {
			list := byGV[v.GroupVersion]
			if list == nil {
				return nil, fmt.Errorf("discovery lists group version %s but no resources for it", v.GroupVersion)
			}
			gv, err := schema.ParseGroupVersion(list.GroupVersion)
			if err != nil {
				return nil, err
			}
			index := map[string]int{}
			var subresources []metav1.APIResource
			for _, r := range list.APIResources {
				if r.Kind == "" {
					continue
				}
				if strings.Contains(r.Name, "/") {
					subresources = append(subresources, r)
					continue
				}
				if len(r.ShortNames) == 0 {
					r.ShortNames = nil // as the table decodes it
				}
				index[r.Name] = len(out)
				out = append(out, manifest.APIResource{
					Group:      gv.Group,
					Version:    gv.Version,
					Kind:       r.Kind,
					Resource:   r.Name,
					Singular:   r.SingularName,
					ShortNames: r.ShortNames,
					Namespaced: r.Namespaced,
					Verbs:      r.Verbs,
					Preferred:  gv.Version == g.PreferredVersion.Version,
				})
			}
			for _, r := range subresources {
				parent, sub, _ := strings.Cut(r.Name, "/")
				i, ok := index[parent]
				if !ok {
					return nil, fmt.Errorf("%s: subresource %s of no listed resource", list.GroupVersion, r.Name)
				}
				out[i].Subresources = append(out[i].Subresources, sub)
			}
			for _, i := range index {
				sort.Strings(out[i].Subresources)
			}
		}
	}
	return out, nil
}

// builtinResourcesJSON renders the table as manifest/builtin_resources.json holds it.
func builtinResourcesJSON(t *testing.T, resources []manifest.APIResource) []byte {
	t.Helper()
	f := manifest.BuiltinResourcesFile{
		Comment: fmt.Sprintf("The resources that a default kube-apiserver %s serves, as its discovery reports them: "+
			"one entry per group, version and resource, in discovery order, subresources folded into their parent. "+
			"Generated by `make resources`; do not edit.", wantServerVersion),
		ServerVersion: wantServerVersion,
		Resources:     resources,
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(f); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
