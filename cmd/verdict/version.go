package main

import (
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// Set at build time by the Makefile: -ldflags "-X main.version=... -X main.commit=... -X main.buildDate=...".
// Left empty, they are read from the binary's build information (see readVersion).
var (
	version   string
	commit    string
	buildDate string
)

// versionInfo is what `verdict version -o json` prints; its field names are a public interface.
type versionInfo struct {
	Version    string `json:"version"`
	Commit     string `json:"commit"`
	BuildDate  string `json:"buildDate"`
	Go         string `json:"go"`
	Kubernetes string `json:"kubernetes"`
}

// apiModule is the module whose version names the Kubernetes release verdict's types and admission
// semantics come from: k8s.io/api v0.37.2 is Kubernetes v1.37.2.
const apiModule = "k8s.io/api"

// readVersion fills in what -ldflags did not set from the build information the Go linker records:
// the main module's version (set by go install module@version), and the VCS revision and commit time
// (recorded by go build in a git checkout unless -buildvcs=false).
func readVersion(bi *debug.BuildInfo, ok bool) versionInfo {
	v := versionInfo{Version: version, Commit: commit, BuildDate: buildDate, Go: runtime.Version()}
	if !ok || bi == nil {
		if v.Version == "" {
			v.Version = "dev"
		}
		return v
	}
	if v.Go == "" {
		v.Go = bi.GoVersion
	}
	if v.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		v.Version = bi.Main.Version
	}
	if v.Version == "" {
		v.Version = "dev"
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			if v.Commit == "" {
				v.Commit = s.Value
			}
		case "vcs.time":
			if v.BuildDate == "" {
				v.BuildDate = s.Value
			}
		}
	}
	for _, d := range bi.Deps {
		if d.Path != apiModule {
			continue
		}
		if d.Replace != nil && d.Replace.Version != "" {
			d = d.Replace
		}
		v.Kubernetes = kubernetesRelease(d.Version)
	}
	return v
}

// kubernetesRelease maps a version of the k8s.io/* staging modules to the Kubernetes release they come
// from: v0.37.2 is v1.37.2. Anything else (a pseudo-version of an unreleased tree) is returned as it is.
func kubernetesRelease(module string) string {
	if rest, ok := strings.CutPrefix(module, "v0."); ok {
		return "v1." + rest
	}
	return module
}

func (v versionInfo) text() string {
	or := func(s string) string {
		if s == "" {
			return "unknown"
		}
		return s
	}
	return fmt.Sprintf("verdict %s\n  commit:     %s\n  build date: %s\n  go:         %s %s/%s\n  kubernetes: %s\n",
		v.Version, or(v.Commit), or(v.BuildDate), v.Go, runtime.GOOS, runtime.GOARCH, or(v.Kubernetes))
}

func currentVersion() versionInfo { return readVersion(debug.ReadBuildInfo()) }

func newVersionCmd(streams IOStreams) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "version [-o text|json]",
		Short: "Print the version, commit and build date of verdict, and its Go and Kubernetes versions",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v := currentVersion()
			switch output {
			case "text", "":
				_, err := fmt.Fprint(streams.Out, v.text())
				return err
			case "json":
				data, err := json.Marshal(v)
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(streams.Out, "%s\n", data)
				return err
			}
			return withCode(exitBadInput, fmt.Errorf("--output %q: must be text or json", output))
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text|json")
	return cmd
}
