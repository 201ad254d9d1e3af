package vap

import (
	"github.com/verdict-dev/verdict/policies/manifest"
)

type mutatingHook struct{}

type mutatingCompiler struct{ opts Options }

func newMutatingCompiler(opts Options) *mutatingCompiler { return &mutatingCompiler{opts: opts} }

func (c *mutatingCompiler) add(d manifest.Document) error { return nil }

func (c *mutatingCompiler) compile() ([]*mutatingHook, []string, []error) { return nil, nil, nil }
