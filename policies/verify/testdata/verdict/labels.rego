package labels

deny contains msg if {
	not input.metadata.labels.team
	msg := sprintf("%s %s has no team label", [input.kind, input.metadata.name])
}

warn contains "prefer an owner label" if not input.metadata.labels.owner

patch contains {"op": "add", "path": "/metadata/annotations", "value": {"verdict.dev/checked": "true"}} if {
	not input.metadata.annotations
}
