package manifest

import (
	"fmt"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/endpoints/deprecation"
	"k8s.io/client-go/kubernetes/scheme"
)

// The release whose API server verdict presents objects to: the minor version of the k8s.io/api
// module it is built with (v0.37.x is Kubernetes 1.37).
var release = sync.OnceValue(func() (minor int) {
	minor = 37
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return minor
	}
	for _, dep := range info.Deps {
		if dep.Path != "k8s.io/api" {
			continue
		}
		parts := strings.Split(strings.TrimPrefix(dep.Version, "v"), ".")
		if len(parts) >= 2 {
			if m, err := strconv.Atoi(parts[1]); err == nil && parts[0] == "0" {
				minor = m
			}
		}
	}
	return minor
})

type lifecycle interface {
	runtime.Object
	APILifecycleRemoved() (major, minor int)
	APILifecycleReplacement() schema.GroupVersionKind
}

// RemovedVersionError is an object in an API version that the current release no longer serves,
// with the version that replaced it, from k8s.io/api's own lifecycle data.
type RemovedVersionError struct {
	GVK          schema.GroupVersionKind
	RemovedMinor int
	Replacement  schema.GroupVersionKind
	CurrentMinor int
}

func (e *RemovedVersionError) Error() string {
	msg := fmt.Sprintf("%s %s is not served by Kubernetes v1.%d: it was removed in v1.%d", e.GVK.GroupVersion(), e.GVK.Kind, e.CurrentMinor, e.RemovedMinor)
	if !e.Replacement.Empty() {
		msg += fmt.Sprintf("; use %s %s", e.Replacement.GroupVersion(), e.Replacement.Kind)
	}
	return msg
}

// removedVersion returns a *RemovedVersionError for a built-in kind in an API version that the
// current release has removed, and nil otherwise.
func removedVersion(gvk schema.GroupVersionKind) error {
	obj, err := scheme.Scheme.New(gvk)
	if err != nil {
		return nil
	}
	lc, ok := obj.(lifecycle)
	if !ok {
		return nil
	}
	major, minor := lc.APILifecycleRemoved()
	if major == 0 && minor == 0 || major > 1 || minor > release() {
		return nil
	}
	return &RemovedVersionError{GVK: gvk, RemovedMinor: minor, Replacement: lc.APILifecycleReplacement(), CurrentMinor: release()}
}

// deprecatedVersion returns the API server's warning for a served but deprecated API version, ""
// for a version that is not deprecated.
func deprecatedVersion(gvk schema.GroupVersionKind) string {
	obj, err := scheme.Scheme.New(gvk)
	if err != nil || !deprecation.IsDeprecated(obj, 1, release()) {
		return ""
	}
	obj.GetObjectKind().SetGroupVersionKind(gvk)
	return deprecation.WarningMessage(obj)
}

// UnservedVersionError is a built-in kind in an API version that a default API server of the
// current release does not serve (a beta version that is off by default, or one that never
// existed), with the versions that it serves.
type UnservedVersionError struct {
	GVK    schema.GroupVersionKind
	Served []string
}

func (e *UnservedVersionError) Error() string {
	uses := make([]string, len(e.Served))
	for i, v := range e.Served {
		uses[i] = schema.GroupVersion{Group: e.GVK.Group, Version: v}.String()
	}
	return fmt.Sprintf("%s %s is not served by a default Kubernetes v1.%d API server; use %s %s",
		e.GVK.GroupVersion(), e.GVK.Kind, release(), strings.Join(uses, " or "), e.GVK.Kind)
}
