package rbacsim

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	authnv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	auditv1 "k8s.io/apiserver/pkg/apis/audit/v1"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
)

// DecisionAnnotation is the audit annotation in which the API server's WithAuthorization filter
// records its decision, "allow" or "forbid".
const DecisionAnnotation = "authorization.k8s.io/decision"

// ReplayedRequest is a recorded request whose decision the given RBAC changes (see docs/contract.md,
// "rbac replay"). Path is set for non-resource requests.
type ReplayedRequest struct {
	AuditID     string   `json:"auditID"`
	Time        string   `json:"time"`
	User        string   `json:"user"`
	Groups      []string `json:"groups"`
	Verb        string   `json:"verb"`
	APIGroup    string   `json:"apiGroup"`
	Resource    string   `json:"resource"`
	Subresource string   `json:"subresource"`
	Namespace   string   `json:"namespace"`
	Name        string   `json:"name"`
	Path        string   `json:"path"`
	Was         string   `json:"was"` // allow or deny
	Now         string   `json:"now"`
	// Nearest is, for a request now refused, the rule that comes closest to allowing it and what it
	// lacks; for one now allowed, the rule that allows it.
	Nearest string `json:"nearest"`
}

// ReplaySummary counts the events of a replay.
type ReplaySummary struct {
	Events       int `json:"events"`
	Skipped      int `json:"skipped"`
	Refused      int `json:"refused"`
	NewlyAllowed int `json:"newlyAllowed"`
}

// ReplayReport is the outcome of a replay.
type ReplayReport struct {
	Requests []ReplayedRequest `json:"requests"`
	Summary  ReplaySummary     `json:"summary"`
	// SkippedBy counts the skipped events by why they were skipped.
	SkippedBy map[string]int `json:"-"`
}

// Reasons an event is not decided again.
const (
	skipStage       = "not the final stage of a request (only ResponseComplete and Panic are decided)"
	skipUnauthentic = "the request was not authenticated"
	skipNoDecision  = "no authorization decision recorded (" + DecisionAnnotation + ")"
	skipUnresolved  = "the request URI cannot be resolved"
)

// Replay decides every request recorded in an audit log (audit.k8s.io/v1 Events, one JSON object a
// line, as kube-apiserver --audit-log-path writes them) again, as the event's user (the impersonated
// one when the event records one) and groups, and reports those the model would now refuse that
// were allowed, and with all those it would now allow that were refused. Events of other stages
// than ResponseComplete and Panic, of requests that authentication refused, and without a recorded
// decision are skipped and counted. name names r in errors.
func (m *Model) Replay(ctx context.Context, name string, r io.Reader, all bool) (*ReplayReport, error) {
	rep := &ReplayReport{Requests: []ReplayedRequest{}, SkippedBy: map[string]int{}}
	skip := func(why string) {
		rep.Summary.Skipped++
		rep.SkippedBy[why]++
	}
	err := ReadAuditEvents(name, r, func(ev *auditv1.Event) error {
		rep.Summary.Events++
		// The API server records a request that authentication refused in one ResponseStarted event.
		if ev.User.Username == "" || (ev.ResponseStatus != nil && ev.ResponseStatus.Code == 401) {
			skip(skipUnauthentic)
			return nil
		}
		if ev.Stage != auditv1.StageResponseComplete && ev.Stage != auditv1.StagePanic {
			skip(skipStage)
			return nil
		}
		var was bool
		switch ev.Annotations[DecisionAnnotation] {
		case "allow":
			was = true
		case "forbid":
		default:
			skip(skipNoDecision)
			return nil
		}
		attrs, err := EventAttributes(ev)
		if err != nil {
			skip(skipUnresolved)
			return nil
		}
		ans, err := m.Decide(ctx, attrs)
		if err != nil {
			return err
		}
		if ans.Allowed == was {
			return nil
		}
		if was {
			rep.Summary.Refused++
		} else {
			rep.Summary.NewlyAllowed++
			if !all {
				return nil
			}
		}
		rr := ReplayedRequest{AuditID: string(ev.AuditID), Time: ev.RequestReceivedTimestamp.UTC().Format(metav1.RFC3339Micro),
			User: attrs.User.GetName(), Groups: append([]string{}, attrs.User.GetGroups()...), Verb: attrs.Verb,
			Was: allowDeny(was), Now: allowDeny(ans.Allowed)}
		if attrs.ResourceRequest {
			rr.APIGroup, rr.Resource, rr.Subresource, rr.Namespace, rr.Name = attrs.APIGroup, attrs.Resource, attrs.Subresource, attrs.Namespace, attrs.Name
		} else {
			rr.Path = attrs.Path
		}
		if ans.Allowed {
			rr.Nearest = ans.Reason
		} else {
			rr.Nearest = nearest(m.Explain(attrs))
		}
		rep.Requests = append(rep.Requests, rr)
		return nil
	})
	return rep, err
}

func allowDeny(allowed bool) string {
	if allowed {
		return "allow"
	}
	return "deny"
}

// nearest is the first near miss of a denied request and what it lacks, or why there is none.
func nearest(e *Explanation) string {
	if len(e.NearMisses) > 0 {
		return e.NearMisses[0].Source + ": " + strings.Join(e.NearMisses[0].Reasons, "; ")
	}
	if len(e.MissingRoles) > 0 {
		return "no rule comes close; " + strings.Join(e.MissingRoles, ", ")
	}
	return "no rule that applies to this user comes close"
}

// ReadAuditEvents reads an audit log, one audit.k8s.io/v1 Event a line, and visits each event in
// order. A line that is not such an event is an error naming its line; blank lines are skipped.
func ReadAuditEvents(name string, r io.Reader, visit func(*auditv1.Event) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	for line := 1; ; line++ {
		data, err := br.ReadBytes('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("%s: %w", name, err)
		}
		if data = bytes.TrimSpace(data); len(data) > 0 {
			ev := &auditv1.Event{}
			if jerr := json.Unmarshal(data, ev); jerr != nil {
				return fmt.Errorf("%s:%d: not an audit event: %w", name, line, jerr)
			}
			if ev.APIVersion != auditv1.SchemeGroupVersion.String() || ev.Kind != "Event" {
				return fmt.Errorf("%s:%d: apiVersion %q, kind %q: expected an %s Event, one JSON object a line, as kube-apiserver --audit-log-path writes them",
					name, line, ev.APIVersion, ev.Kind, auditv1.SchemeGroupVersion)
			}
			if verr := visit(ev); verr != nil {
				return fmt.Errorf("%s:%d: %w", name, line, verr)
			}
		}
		if err != nil {
			return nil
		}
	}
}

// EventAttributes are the attributes the API server authorized for an audit event's request: its
// requestURI through ParseRequest, with the HTTP method its verb implies (an event records no
// method), as the event's user, or the impersonated user when there is one. An event without a
// requestURI, or whose verb the URI does not give back, is taken from its verb and objectRef.
func EventAttributes(ev *auditv1.Event) (authorizer.AttributesRecord, error) {
	u := userOf(&ev.User)
	if ev.ImpersonatedUser != nil {
		u = userOf(ev.ImpersonatedUser)
	}
	resource := ev.ObjectRef != nil
	if ev.RequestURI != "" {
		attrs, err := ParseRequest(methodFor(ev.Verb, resource) + " " + ev.RequestURI)
		if err != nil {
			return attrs, err
		}
		if attrs.Verb == ev.Verb && attrs.ResourceRequest == resource {
			attrs.User = u
			return attrs, nil
		}
	}
	attrs := authorizer.AttributesRecord{User: u, Verb: ev.Verb}
	if !resource {
		path, _, _ := strings.Cut(ev.RequestURI, "?")
		attrs.Path = path
		return attrs, nil
	}
	o := ev.ObjectRef
	attrs.ResourceRequest = true
	attrs.APIGroup, attrs.APIVersion, attrs.Resource, attrs.Subresource, attrs.Namespace, attrs.Name = o.APIGroup, o.APIVersion, o.Resource, o.Subresource, o.Namespace, o.Name
	return attrs, nil
}

// methodFor is an HTTP method that RequestInfoFactory turns into verb: a non-resource request's
// verb is its method in lower case.
func methodFor(verb string, resource bool) string {
	if resource {
		switch verb {
		case "get", "list", "watch", "proxy":
			return "GET"
		case "create":
			return "POST"
		case "update":
			return "PUT"
		case "patch":
			return "PATCH"
		case "delete", "deletecollection":
			return "DELETE"
		}
	}
	if verb == "" {
		return "OPTIONS"
	}
	return strings.ToUpper(verb)
}

func userOf(u *authnv1.UserInfo) user.Info {
	info := &user.DefaultInfo{Name: u.Username, UID: u.UID, Groups: u.Groups}
	if len(u.Extra) > 0 {
		info.Extra = map[string][]string{}
		for k, v := range u.Extra {
			info.Extra[k] = v
		}
	}
	return info
}

// WriteReplayTable prints one line per reported request and a closing summary line.
func WriteReplayTable(w io.Writer, rep *ReplayReport) error {
	tw := tabwriter.NewWriter(w, 6, 4, 3, ' ', 0)
	fmt.Fprintln(tw, "TIME\tUSER\tVERB\tRESOURCE\tNAMESPACE\tWAS\tNOW\tNEAREST")
	for _, r := range rep.Requests {
		what := r.Path
		if what == "" {
			what = r.Resource
			if r.APIGroup != "" {
				what += "." + r.APIGroup
			}
			if r.Name != "" {
				what += "/" + r.Name
			}
			if r.Subresource != "" {
				what += "/" + r.Subresource
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Time, r.User, r.Verb, what, r.Namespace, r.Was, r.Now, r.Nearest)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	s := rep.Summary
	_, err := fmt.Fprintf(w, "%d events, %d skipped: %d now refused, %d newly allowed\n", s.Events, s.Skipped, s.Refused, s.NewlyAllowed)
	return err
}

// SkipNotes say why events were skipped, one line per reason, in a stable order.
func (rep *ReplayReport) SkipNotes() []string {
	var notes []string
	for _, why := range slices.Sorted(maps.Keys(rep.SkippedBy)) {
		notes = append(notes, fmt.Sprintf("%d events skipped: %s", rep.SkippedBy[why], why))
	}
	return notes
}
