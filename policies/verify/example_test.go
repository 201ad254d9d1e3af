package verify_test

import (
	"context"
	"os"

	"github.com/verdict-dev/verdict/policies/verify"
)

func ExampleRun() {
	report, err := verify.Run(context.Background(), verify.Options{Paths: []string{"testdata/disagree"}})
	if err != nil {
		panic(err)
	}
	if err := report.Write(os.Stdout, "text", false); err != nil {
		panic(err)
	}
	// Output:
	// ok    testdata/disagree/suite.yaml: no-latest/both-engines-agree
	// FAIL  testdata/disagree/suite.yaml: no-latest/engines-disagree: engines disagree: cel: assertions[0]: want at least 1 violation, got 0 (rego passed)
	// 1 passed, 1 failed
}
