package main

import (
	"io"
	"strings"
	"testing"
)

func TestFollowsLiveHeap(t *testing.T) {
	root := newRootCmd(IOStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: io.Discard})
	tests := []struct {
		args []string
		want bool
	}{
		{[]string{"check"}, true},
		{[]string{"mutate"}, true},
		{[]string{"audit"}, true},
		{[]string{"simulate"}, true},
		{[]string{"verify"}, true},
		{[]string{"serve"}, false},
		{[]string{"rbac", "can-i"}, false},
		{[]string{"rbac", "diff"}, false},
	}
	for _, tt := range tests {
		cmd, _, err := root.Find(tt.args)
		if err != nil {
			t.Fatal(err)
		}
		if got := followsLiveHeap(cmd); got != tt.want {
			t.Errorf("%v: follows the live heap = %v, want %v", tt.args, got, tt.want)
		}
	}
}
