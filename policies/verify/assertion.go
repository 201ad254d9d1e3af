package verify

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// assertion is gator's assertion: how many violations (all of them, or those whose message matches
// a regular expression) a case must have. violations is yes (at least one, the default), no (none) or
// a count.
type assertion struct {
	Violations json.RawMessage `json:"violations,omitempty"`
	Message    *string         `json:"message,omitempty"`
}

// expectation is a checked assertion.
type expectation struct {
	atLeastOne bool // yes
	count      int  // exact count when !atLeastOne
	message    *regexp.Regexp
	text       string // the message regexp as written
}

// compile checks an assertion. YAML 1.1 reads an unquoted yes or no as a boolean; gator (YAML 1.2)
// reads a string: both mean the same here.
func (a assertion) compile() (expectation, error) {
	e := expectation{atLeastOne: true}
	raw := strings.TrimSpace(string(a.Violations))
	switch raw {
	case "", "null", "true", `"yes"`:
	case "false", `"no"`:
		e.atLeastOne = false
	default:
		n, err := strconv.Atoi(raw)
		if err != nil || n < 0 {
			return e, fmt.Errorf(`violations: %s: must be a nonnegative integer, "yes", or "no"`, raw)
		}
		e.atLeastOne, e.count = false, n
	}
	if a.Message != nil {
		re, err := regexp.Compile(*a.Message)
		if err != nil {
			return e, fmt.Errorf("message: invalid regular expression %q: %w", *a.Message, err)
		}
		e.message, e.text = re, *a.Message
	}
	return e, nil
}

// String says what the assertion wants, for failures.
func (e expectation) String() string {
	var want string
	switch {
	case e.atLeastOne:
		want = "at least 1 violation"
	case e.count == 0:
		want = "no violations"
	case e.count == 1:
		want = "exactly 1 violation"
	default:
		want = fmt.Sprintf("exactly %d violations", e.count)
	}
	if e.message != nil {
		want += fmt.Sprintf(" matching %q", e.text)
	}
	return want
}

// check counts the messages the assertion matches and says why it fails, or "" if it holds.
func (e expectation) check(messages []string) string {
	n := 0
	for _, m := range messages {
		if e.message == nil || e.message.MatchString(m) {
			n++
		}
	}
	if e.atLeastOne && n > 0 || !e.atLeastOne && n == e.count {
		return ""
	}
	got := fmt.Sprintf("got %d", n)
	if e.message != nil {
		got += " matching"
	}
	return fmt.Sprintf("want %s, %s", e, got)
}
