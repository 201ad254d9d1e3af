package rbacsim

import (
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
)

func TestRuleAllows(t *testing.T) {
	res := func(verb, group, resource, sub, name string) request {
		return request{resourceRequest: true, verb: verb, group: group, resource: resource, subresource: sub, name: name}
	}
	url := func(verb, path string) request { return request{verb: verb, path: path} }
	rule := func(verbs, groups, resources, names []string) rbacv1.PolicyRule {
		return rbacv1.PolicyRule{Verbs: verbs, APIGroups: groups, Resources: resources, ResourceNames: names}
	}
	s := func(v ...string) []string { return v }
	tests := []struct {
		name string
		rule rbacv1.PolicyRule
		req  request
		want bool
	}{
		{"exact", rule(s("get"), s(""), s("pods"), nil), res("get", "", "pods", "", ""), true},
		{"other verb", rule(s("get"), s(""), s("pods"), nil), res("list", "", "pods", "", ""), false},
		{"verb wildcard", rule(s("*"), s(""), s("pods"), nil), res("escalate", "", "pods", "", ""), true},
		{"verbs are case-sensitive", rule(s("GET"), s(""), s("pods"), nil), res("get", "", "pods", "", ""), false},
		{"other group", rule(s("get"), s(""), s("deployments"), nil), res("get", "apps", "deployments", "", ""), false},
		{"group wildcard", rule(s("get"), s("*"), s("deployments"), nil), res("get", "apps", "deployments", "", ""), true},
		{"second group", rule(s("get"), s("", "apps"), s("deployments"), nil), res("get", "apps", "deployments", "", ""), true},
		{"resource wildcard", rule(s("get"), s(""), s("*"), nil), res("get", "", "secrets", "", ""), true},
		{"resource wildcard covers subresources", rule(s("get"), s(""), s("*"), nil), res("get", "", "pods", "log", ""), true},
		{"resource rule does not cover subresource", rule(s("get"), s(""), s("pods"), nil), res("get", "", "pods", "log", ""), false},
		{"subresource exact", rule(s("get"), s(""), s("pods/log"), nil), res("get", "", "pods", "log", ""), true},
		{"subresource rule does not cover resource", rule(s("get"), s(""), s("pods/log"), nil), res("get", "", "pods", "", ""), false},
		{"subresource of other resource", rule(s("get"), s(""), s("pods/log"), nil), res("get", "", "nodes", "log", ""), false},
		{"star slash subresource", rule(s("update"), s("*"), s("*/scale"), nil), res("update", "apps", "deployments", "scale", ""), true},
		{"star slash other subresource", rule(s("update"), s("*"), s("*/scale"), nil), res("update", "apps", "deployments", "status", ""), false},
		{"star slash without subresource", rule(s("update"), s("*"), s("*/scale"), nil), res("update", "apps", "deployments", "", ""), false},
		{"star slash suffix is exact", rule(s("get"), s("*"), s("*/scale"), nil), res("get", "", "x", "rescale", ""), false},
		{"resource slash star is no wildcard", rule(s("get"), s(""), s("pods/*"), nil), res("get", "", "pods", "log", ""), false},
		{"resource slash star is no wildcard for resource", rule(s("get"), s(""), s("pods/*"), nil), res("get", "", "pods", "", ""), false},
		{"star slash star is no wildcard", rule(s("get"), s(""), s("*/*"), nil), res("get", "", "pods", "log", ""), false},
		{"resourceNames match", rule(s("get"), s(""), s("configmaps"), s("a", "b")), res("get", "", "configmaps", "", "b"), true},
		{"resourceNames other name", rule(s("get"), s(""), s("configmaps"), s("a")), res("get", "", "configmaps", "", "c"), false},
		{"resourceNames never match list", rule(s("list"), s(""), s("configmaps"), s("a")), res("list", "", "configmaps", "", ""), false},
		{"resourceNames never match create", rule(s("create"), s(""), s("configmaps"), s("a")), res("create", "", "configmaps", "", ""), false},
		{"no resourceNames match any name", rule(s("get"), s(""), s("configmaps"), nil), res("get", "", "configmaps", "", "x"), true},
		{"resourceNames with subresource", rule(s("update"), s("apps"), s("deployments/scale"), s("web")), res("update", "apps", "deployments", "scale", "web"), true},
		{"resource rule does not match URL", rule(s("get"), s("*"), s("*"), nil), url("get", "/healthz"), false},
		{"url exact", rbacv1.PolicyRule{Verbs: s("get"), NonResourceURLs: s("/healthz")}, url("get", "/healthz"), true},
		{"url other", rbacv1.PolicyRule{Verbs: s("get"), NonResourceURLs: s("/healthz")}, url("get", "/healthz/etcd"), false},
		{"url prefix star", rbacv1.PolicyRule{Verbs: s("get"), NonResourceURLs: s("/healthz/*")}, url("get", "/healthz/etcd"), true},
		{"url prefix star needs prefix", rbacv1.PolicyRule{Verbs: s("get"), NonResourceURLs: s("/healthz/*")}, url("get", "/healthz"), false},
		{"url star without slash", rbacv1.PolicyRule{Verbs: s("get"), NonResourceURLs: s("/api*")}, url("get", "/apis/apps"), true},
		{"url wildcard", rbacv1.PolicyRule{Verbs: s("*"), NonResourceURLs: s("*")}, url("post", "/anything"), true},
		{"url verb", rbacv1.PolicyRule{Verbs: s("get"), NonResourceURLs: s("*")}, url("post", "/metrics"), false},
		{"url rule does not match resource", rbacv1.PolicyRule{Verbs: s("*"), NonResourceURLs: s("*")}, res("get", "", "pods", "", ""), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ruleAllows(&tt.req, &tt.rule); got != tt.want {
				t.Errorf("ruleAllows(%+v, %+v) = %v, want %v", tt.req, tt.rule, got, tt.want)
			}
		})
	}
}
