package rbacsim

import (
	"errors"
	"slices"

	"k8s.io/apiserver/pkg/authentication/serviceaccount"
	"k8s.io/apiserver/pkg/authentication/user"
)

// Impersonate returns the user that kube-apiserver's impersonation filter makes of
// --as NAME and --as-group GROUP...: a service-account user given no groups is in system:serviceaccounts
// and system:serviceaccounts:NS; given groups, exactly those. A user other than system:anonymous is
// also in system:authenticated unless its groups already hold system:authenticated or
// system:unauthenticated; system:anonymous is in system:unauthenticated.
func Impersonate(name string, groups []string) (user.Info, error) {
	if name == "" {
		if len(groups) > 0 {
			return nil, errors.New("groups cannot be impersonated without a user (--as-group needs --as)")
		}
		return nil, errors.New("a user is required (--as): offline there is no current user")
	}
	var gs []string
	if ns, _, err := serviceaccount.SplitUsername(name); err == nil && len(groups) == 0 {
		gs = serviceaccount.MakeGroupNames(ns)
	}
	gs = append(gs, groups...)
	if name != user.Anonymous {
		if !slices.Contains(gs, user.AllAuthenticated) && !slices.Contains(gs, user.AllUnauthenticated) {
			gs = append(gs, user.AllAuthenticated)
		}
	} else if !slices.Contains(gs, user.AllUnauthenticated) {
		gs = append(gs, user.AllUnauthenticated)
	}
	return &user.DefaultInfo{Name: name, Groups: gs}, nil
}
