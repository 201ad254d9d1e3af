package main

deny contains msg if {
  input.kind == "Pod"
  not input.metadata.labels.owner
  msg := sprintf("%s: you must provide label owner", [input.metadata.name])
}
