package main

import rego.v1

deny contains msg if {
	input.kind == "Pod"
	msg := sprintf("pod %s denied", [input.metadata.name])
}

deny_named contains {"msg": msg, "details": {"n": 1}} if {
	input.kind == "Pod"
	msg := "named deny with details"
}

violation_x contains {"msg": "violation object", "extra": true} if input.kind == "ConfigMap"

warn_thing contains "a warning" if input.kind

warn contains msg if {
	not input.kind
	msg := "no kind"
}

deny_list contains msg if {
	input.kind == "List"
	msg := sprintf("a list of %d", [count(input.items)])
}

exception contains rules if {
	input.metadata.name == "exempt"
	rules := ["named"]
}
