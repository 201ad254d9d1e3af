package simulate

import (
	"fmt"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/cli-runtime/pkg/resource"
	cmdutil "k8s.io/kubectl/pkg/cmd/util"
)

// kubectlMu guards kubectl's process-wide fatal error handler while KubectlMessage borrows it.
var kubectlMu sync.Mutex

// KubectlMessage is what kubectl prints on standard error for an error of a command, as
// cmdutil.CheckErr formats it: "Error from server (Forbidden): ..." for an API error, "The Pod "x"
// is invalid: ..." for an Invalid one with its causes, "error: ..." otherwise. It is kubectl's own
// code, run with its fatal handler borrowed (kubectl exits there).
func KubectlMessage(err error) string {
	if err == nil {
		return ""
	}
	kubectlMu.Lock()
	defer kubectlMu.Unlock()
	var msg string
	cmdutil.BehaviorOnFatal(func(m string, _ int) { msg = m })
	defer cmdutil.DefaultBehaviorOnFatal()
	cmdutil.CheckErr(err)
	return strings.TrimRight(msg, "\n")
}

// info is kubectl's resource.Info of an object, for its error wording.
func info(gvk schema.GroupVersionKind, gvr schema.GroupVersionResource, namespace, name string) *resource.Info {
	return &resource.Info{Name: name, Namespace: namespace, Mapping: &meta.RESTMapping{Resource: gvr, GroupVersionKind: gvk}}
}

// whileRetrieving is kubectl apply's error for a GET that failed otherwise than NotFound.
func whileRetrieving(i *resource.Info, source string, err error) error {
	return cmdutil.AddSourceToErr(fmt.Sprintf("retrieving current configuration of:\n%s\nfrom server for:", i.String()), source, err)
}

// whileCreating is kubectl apply's error for a POST that failed.
func whileCreating(source string, err error) error {
	return cmdutil.AddSourceToErr("creating", source, err)
}

// whilePatching is kubectl apply's error for a PATCH that failed: its Patcher's ("patching"),
// wrapped in apply's, which names the patch and the object.
func whilePatching(patch []byte, i *resource.Info, source string, err error) error {
	err = cmdutil.AddSourceToErr("patching", source, err)
	return cmdutil.AddSourceToErr(fmt.Sprintf("applying patch:\n%s\nto:\n%v\nfor:", patch, i), source, err)
}
