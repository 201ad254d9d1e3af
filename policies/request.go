package policies

import (
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/authentication/user"
)

// DefaultTimeout bounds the judging of one object: the API server's default webhook timeout, which
// the webhook answers within and check, mutate, verify and audit take for one object, so that a
// policy that runs away fails its object instead of hanging the run.
const DefaultTimeout = 10 * time.Second

// Operation is the admission operation, as in admission.k8s.io/v1.
type Operation string

// The operations an admission request can carry.
const (
	Create  Operation = "CREATE"
	Update  Operation = "UPDATE"
	Delete  Operation = "DELETE"
	Connect Operation = "CONNECT"
)

// ParseOperation accepts an operation name in any case.
func ParseOperation(s string) (Operation, bool) {
	switch op := Operation(upper(s)); op {
	case Create, Update, Delete, Connect:
		return op, true
	}
	return "", false
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// Request is one admission request, as the API server presents it to admission: the object after
// defaulting and namespace filling, the old object on UPDATE and DELETE, and who asks.
type Request struct {
	UID         string
	Kind        schema.GroupVersionKind
	Resource    schema.GroupVersionResource
	SubResource string
	// RequestKind and RequestResource are what the client sent; empty means the same as Kind and Resource.
	RequestKind     *schema.GroupVersionKind
	RequestResource *schema.GroupVersionResource
	Name            string
	Namespace       string
	Operation       Operation
	// Object is nil on DELETE; OldObject is nil on CREATE and CONNECT.
	Object    *unstructured.Unstructured
	OldObject *unstructured.Unstructured
	// Options is the operation's options object (CreateOptions, UpdateOptions, DeleteOptions), if any.
	Options  *unstructured.Unstructured
	UserInfo user.Info
	DryRun   bool
}

// Subject returns the object a policy looks at: the new object, or the old one on DELETE.
func (r *Request) Subject() *unstructured.Unstructured {
	if r.Object != nil {
		return r.Object
	}
	return r.OldObject
}
