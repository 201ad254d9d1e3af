package simulate

import (
	"context"
	"testing"

	"github.com/verdict-dev/verdict/rbacsim"
)

// FuzzRunRequest: no request line, however broken, makes RunRequest panic; it is refused with an
// error or simulated.
func FuzzRunRequest(f *testing.F) {
	for _, line := range []string{
		"GET /api/v1/namespaces/shop/pods", "POST /apis/apps/v1/namespaces/shop/deployments?dryRun=All",
		"DELETE /api/v1/namespaces/shop", "GET /healthz", "get /api", "GET", "", "GET api/v1/pods",
		"PUT https://host/api/v1/namespaces/x/configmaps/y HTTP/1.1", `I0101 "Request" verb="GET" url="https://h/api/v1/pods"`,
		"GET /api/v1/namespaces/%zz/pods", "PATCH /apis//v1//x/", "GET /api/v1/namespaces/shop/pods?limit=x&watch=maybe",
	} {
		f.Add(line)
	}
	u, err := rbacsim.Impersonate("alice", nil)
	if err != nil {
		f.Fatal(err)
	}
	rbac, err := rbacsim.Parse("grants.yaml", []byte(grants))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, line string) {
		res, err := RunRequest(context.Background(), line, nil, Options{User: u, RBAC: rbac})
		if err == nil && res == nil {
			t.Fatalf("%q: no result and no error", line)
		}
	})
}
