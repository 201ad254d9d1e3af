package webhook

import (
	"encoding/json"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/verdict-dev/verdict/policies"
)

// The API server's limits on the warnings of one response (k8s.io/apiserver/pkg/endpoints/filters,
// the warning recorder): past 4 KiB in all, each warning is cut to 256 characters, and warnings that
// still do not fit are dropped.
const (
	maxWarningsTotal = 4 * 1024
	maxWarningItem   = 256
	// maxMessage bounds a denial message: one line, as short as a reader can take in a kubectl error.
	maxMessage = 4 * 1024
)

// denial builds the response of a denied request from its findings: the first denial decides the
// status reason and code, and every denial's message is listed, one after another on one line.
func denial(findings []policies.Finding) admission.Response {
	var msgs []string
	var reason metav1.StatusReason
	for _, f := range findings {
		if f.Action != policies.Deny {
			continue
		}
		if len(msgs) == 0 {
			reason = f.Reason
		}
		msgs = append(msgs, f.Text)
	}
	if reason == "" {
		reason = metav1.StatusReasonForbidden
	}
	return admission.Response{AdmissionResponse: admissionv1.AdmissionResponse{
		Allowed: false,
		Result: &metav1.Status{
			Status:  metav1.StatusFailure,
			Code:    policies.ReasonCode(reason),
			Reason:  reason,
			Message: bound(strings.Join(msgs, "; "), maxMessage),
		},
	}}
}

// warnings collects the warnings of the findings within the API server's limits, with printable
// characters only (it drops warnings with control characters).
func warnings(findings []policies.Finding) []string {
	var out []string
	for _, f := range findings {
		if f.Action == policies.Warn {
			out = append(out, printable(f.Text))
		}
	}
	total := 0
	for _, w := range out {
		total += utf8.RuneCountInString(w)
	}
	if total <= maxWarningsTotal {
		return out
	}
	kept := out[:0]
	total = 0
	for _, w := range out {
		w = bound(w, maxWarningItem)
		n := utf8.RuneCountInString(w)
		if total+n > maxWarningsTotal {
			break
		}
		total += n
		kept = append(kept, w)
	}
	return kept
}

// auditAnnotations returns the outcome's audit annotations with keys the API server accepts (it
// prefixes each with the webhook's name, so a key may hold no "/"), and the audit findings as the
// API server records a VAP's Audit action.
func auditAnnotations(o policies.Outcome) map[string]string {
	out := map[string]string{}
	for k, v := range o.AuditAnnotations {
		key := strings.ReplaceAll(k, "/", ".")
		if len(validation.IsQualifiedName(key)) == 0 {
			out[key] = v
		}
	}
	type failure struct {
		Message string `json:"message"`
		Policy  string `json:"policy"`
		Binding string `json:"binding"`
	}
	var failures []failure
	for _, f := range o.Findings {
		if f.Action == policies.Audit {
			failures = append(failures, failure{Message: f.Message, Policy: f.Policy, Binding: f.Binding})
		}
	}
	if len(failures) > 0 {
		sort.SliceStable(failures, func(i, j int) bool { return failures[i].Policy < failures[j].Policy })
		if data, err := json.Marshal(failures); err == nil {
			out["validation_failure"] = string(data)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return ' '
	}, s)
}

// bound cuts s to at most n characters, marking the cut.
func bound(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-3]) + "..."
}
