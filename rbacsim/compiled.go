package rbacsim

import rbacv1 "k8s.io/api/rbac/v1"

// verbBits gives the common verbs a bit, so that most rules are ruled out by one AND.
var verbBits = map[string]uint32{
	"get": 1 << 0, "list": 1 << 1, "watch": 1 << 2, "create": 1 << 3, "update": 1 << 4, "patch": 1 << 5,
	"delete": 1 << 6, "deletecollection": 1 << 7, "use": 1 << 8, "bind": 1 << 9, "escalate": 1 << 10,
	"impersonate": 1 << 11, "approve": 1 << 12, "sign": 1 << 13, "proxy": 1 << 14,
}

const (
	allVerbs   uint32 = 1 << 31 // the rule has "*"
	otherVerbs uint32 = 1 << 30 // the rule has a verb without a bit
)

// verbMask summarizes the verbs of rules: bits of the common verbs, allVerbs for "*", otherVerbs
// when some verb has no bit of its own.
func verbMask(rules ...rbacv1.PolicyRule) uint32 {
	var m uint32
	for _, r := range rules {
		for _, v := range r.Verbs {
			switch bit, ok := verbBits[v]; {
			case v == rbacv1.VerbAll:
				m |= allVerbs
			case ok:
				m |= bit
			default:
				m |= otherVerbs
			}
		}
	}
	return m
}

// mayHaveVerb is a quick and exact-when-false test: false means no rule of the mask has the verb.
func mayHaveVerb(mask, reqBit uint32) bool {
	if mask&(allVerbs|otherVerbs) != 0 {
		return true
	}
	return mask&reqBit != 0
}

// compile sets the verb masks of a role's rules, once its rules are final.
func (r *Role) compile() {
	r.ruleVerbs = make([]uint32, len(r.Rules))
	r.verbs = 0
	for i := range r.Rules {
		r.ruleVerbs[i] = verbMask(r.Rules[i])
		r.verbs |= r.ruleVerbs[i]
	}
}

// requestVerbBit is the bit of a request's verb, or otherVerbs when it has none (then masks rule
// nothing out).
func requestVerbBit(verb string) uint32 {
	if bit, ok := verbBits[verb]; ok {
		return bit
	}
	return otherVerbs
}
