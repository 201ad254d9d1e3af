package policies

import (
	"encoding/json"
	"strings"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
)

func TestFromAdmissionRequest(t *testing.T) {
	tests := []struct {
		name    string
		request string
		wantErr string
		check   func(t *testing.T, r *Request)
	}{
		{name: "create", request: `{"uid":"u1","kind":{"group":"apps","version":"v1","kind":"Deployment"},"resource":{"group":"apps","version":"v1","resource":"deployments"},
			"namespace":"shop","name":"web","operation":"CREATE","userInfo":{"username":"alice","groups":["dev"],"extra":{"k":["v"]}},
			"object":{"apiVersion":"apps/v1","kind":"Deployment","spec":{"replicas":3}},"dryRun":true}`,
			check: func(t *testing.T, r *Request) {
				if r.UID != "u1" || r.Namespace != "shop" || r.Name != "web" || r.Operation != Create || !r.DryRun {
					t.Errorf("request = %+v", r)
				}
				if _, ok := r.Object.Object["spec"].(map[string]any)["replicas"].(int64); !ok {
					t.Errorf("replicas decoded as %T, want int64 as the API server decodes it", r.Object.Object["spec"].(map[string]any)["replicas"])
				}
				if r.UserInfo.GetName() != "alice" || r.UserInfo.GetExtra()["k"][0] != "v" {
					t.Errorf("userInfo = %+v", r.UserInfo)
				}
			}},
		{name: "gator's case without operation", request: `{"object":{"apiVersion":"v1","kind":"Pod"}}`},
		{name: "unknown operation", request: `{"operation":"PATCH","object":{}}`, wantErr: `request.operation "PATCH" is not CREATE, UPDATE, DELETE or CONNECT`},
		{name: "delete without old object", request: `{"operation":"DELETE","object":{}}`, wantErr: "request.oldObject is required for a DELETE operation"},
		{name: "nothing to review", request: `{"operation":"UPDATE"}`, wantErr: `neither "object" nor "oldObject"`},
		{name: "connect needs no object", request: `{"operation":"CONNECT"}`},
		{name: "object not an object", request: `{"operation":"CREATE","object":[1]}`, wantErr: "request.object is not a JSON object"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var ar admissionv1.AdmissionRequest
			if err := json.Unmarshal([]byte(tc.request), &ar); err != nil {
				t.Fatal(err)
			}
			r, err := FromAdmissionRequest(&ar)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}
}
