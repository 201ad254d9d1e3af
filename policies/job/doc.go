// Package job is the skeleton that verdict's offline jobs over manifests share (check, mutate):
// read the manifests, load the policies with the objects among them they read (params, Namespaces,
// CRDs, Gatekeeper's inventory), present each object to the policies as the API server would, and
// hand it to the job with its deadline, on every core, keeping the input order.
//
// Options is the value that the jobs, and for its Policies part serve, share.
package job
