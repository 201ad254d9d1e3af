package other.pkg

import rego.v1

deny contains "other package" if input.kind == "Service"

violation := [{"msg": "array violation"}] if input.kind == "Service"
