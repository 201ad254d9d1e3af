// Command etcd is the etcd server, built from go.etcd.io/etcd/server/v3 at the
// version pinned in go.mod, for verdict's end-to-end tests (envtest).
//
// It is a tool, not part of verdict: this module has its own go.mod, apart
// from kube-apiserver's, so that each binary is built with the dependency
// versions its own project released it with.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
