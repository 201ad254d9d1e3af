package webhook

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// check is one named health check, as kube-apiserver names its checks.
type check struct {
	name string
	fn   func() error
}

var ping = check{name: "ping", fn: func() error { return nil }}

// maxReason bounds the reason of a failing check in a health answer.
const maxReason = 1024

// installHealth makes mux answer /healthz, /livez or /readyz in the kube-apiserver style: `ok`, or with
// ?verbose one line per check (`[+]name ok`, `[-]name failed: reason`) and `<name> check passed`;
// a failing check makes it 500 with the lines, always. ?exclude=name leaves a check out, and
// /readyz/<name> answers one check.
//
// Unlike k8s.io/apiserver's healthz, which withholds the reason of a failing check because its
// endpoint is public, it says why: this port is the pod's own, and the reason (a policy reload that
// failed, an API server that cannot be reached) is what the operator needs.
func installHealth(mux *http.ServeMux, name string, checks ...check) {
	mux.HandleFunc("/"+name, func(w http.ResponseWriter, r *http.Request) { answerHealth(w, r, name, checks) })
	for _, c := range checks {
		mux.HandleFunc("/"+name+"/"+c.name, func(w http.ResponseWriter, r *http.Request) {
			answerHealth(w, r, name+"/"+c.name, []check{c})
		})
	}
}

func answerHealth(w http.ResponseWriter, r *http.Request, name string, checks []check) {
	excluded := r.URL.Query()["exclude"]
	var out strings.Builder
	failed := false
	for _, c := range checks {
		if slices.Contains(excluded, c.name) {
			fmt.Fprintf(&out, "[+]%s excluded: ok\n", c.name)
			continue
		}
		if err := c.fn(); err != nil {
			failed = true
			fmt.Fprintf(&out, "[-]%s failed: %s\n", c.name, bound(oneLine(err.Error()), maxReason))
			continue
		}
		fmt.Fprintf(&out, "[+]%s ok\n", c.name)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if failed {
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprintf(w, "%s%s check failed\n", out.String(), name)
		return
	}
	if _, verbose := r.URL.Query()["verbose"]; !verbose {
		fmt.Fprint(w, "ok")
		return
	}
	fmt.Fprintf(w, "%s%s check passed\n", out.String(), name)
}
