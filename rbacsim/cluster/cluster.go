// Package cluster reads the RBAC objects of a live cluster into rbacsim, for the --kubeconfig flag
// of verdict's rbac commands: the Roles, ClusterRoles, RoleBindings and ClusterRoleBindings of every
// namespace, and the CustomResourceDefinitions, whose names TYPE arguments may use.
//
// It reads each list as the API server serves it and hands it to rbacsim's loader, so an object
// read from a cluster is checked and defaulted exactly as one read from a file. It is not a cache
// or an informer: it reads once.
package cluster

import (
	"context"
	"encoding/json"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/verdict-dev/verdict/rbacsim"
)

// pageSize is the number of objects asked for in one list request.
const pageSize = 500

// rbacLists are the lists that make the RBAC model, in the order they are loaded.
var rbacLists = []string{
	"/apis/rbac.authorization.k8s.io/v1/clusterroles",
	"/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
	"/apis/rbac.authorization.k8s.io/v1/roles",
	"/apis/rbac.authorization.k8s.io/v1/rolebindings",
}

// crdList is read for type resolution only: when it cannot be read, a note says so.
const crdList = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"

// Read lists the RBAC objects and CRDs of the cluster that cfg points to. Each object's Source names
// the list it came from ("https://host:6443/apis/rbac.authorization.k8s.io/v1/roles: document 0, items[3]",
// a document per page).
func Read(ctx context.Context, cfg *rest.Config) (*rbacsim.Objects, error) {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	client := cs.RbacV1().RESTClient() // any client: each request names its own absolute path
	all := &rbacsim.Objects{Sources: map[any]rbacsim.Source{}}
	for _, path := range rbacLists {
		objs, err := readList(ctx, client, cfg.Host, path)
		if err != nil {
			return nil, fmt.Errorf("reading %s from %s: %w", path, cfg.Host, err)
		}
		all.Append(objs)
	}
	crds, err := readList(ctx, client, cfg.Host, crdList)
	switch {
	case err == nil:
		all.Append(crds)
	case apierrors.IsForbidden(err) || apierrors.IsNotFound(err):
		all.Notes = append(all.Notes, fmt.Sprintf("%s%s: not readable (%v); custom resource types are split at their first dot", cfg.Host, crdList, err))
	default:
		return nil, fmt.Errorf("reading %s from %s: %w", crdList, cfg.Host, err)
	}
	return all, nil
}

// readList reads every page of a list and parses each page as one document.
func readList(ctx context.Context, client rest.Interface, host, path string) (*rbacsim.Objects, error) {
	objs := &rbacsim.Objects{Sources: map[any]rbacsim.Source{}}
	var body []byte
	cont := ""
	for {
		req := client.Get().AbsPath(path).Param("limit", fmt.Sprint(pageSize))
		if cont != "" {
			req = req.Param("continue", cont)
		}
		res := req.Do(ctx)
		page, err := res.Raw()
		if err != nil {
			return nil, res.Error() // the API server's Status, where Raw's error says only "unknown"
		}
		var meta struct {
			Metadata struct {
				Continue string `json:"continue"`
			} `json:"metadata"`
		}
		if err := json.Unmarshal(page, &meta); err != nil {
			return nil, fmt.Errorf("decoding the list: %w", err)
		}
		// Pages are documents of one YAML stream, so that sources count them.
		body = append(append(body, page...), "\n---\n"...)
		if cont = meta.Metadata.Continue; cont == "" {
			break
		}
	}
	parsed, err := rbacsim.Parse(host+path, body)
	if err != nil {
		return nil, err
	}
	objs.Append(parsed)
	return objs, nil
}
