package conflict

v := 1 if { true }

v := 2 if { true }

deny contains "never" if { v == 1 }
