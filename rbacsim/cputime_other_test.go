//go:build !unix

package rbacsim

import "time"

func processCPU() time.Duration { return 0 }
