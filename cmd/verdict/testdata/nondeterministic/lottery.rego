# A conftest-style policy that draws lots: allowed, with a warning at load.
package lottery

import rego.v1

deny contains "unlucky" if rand.intn("draw", 100) > 100
