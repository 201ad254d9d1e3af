// Command image builds verdict's container image with no base image and no container runtime: an
// empty base, one layer with the files a static Go binary needs at run time (CA certificates, an
// /etc/passwd entry for the non-root user, /tmp), and one layer with the binary. It writes an OCI
// image layout and, given -push, pushes the image to a registry.
//
// It is a tools module of its own (hack/image/go.mod), so go-containerregistry is no dependency of
// verdict itself. make image runs it; see the Makefile.
package main

import (
	"archive/tar"
	"bytes"
	"debug/elf"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// The image's user: 65532 is distroless's "nonroot", which config/manager's Deployment runs as.
const (
	uid        = 65532
	userName   = "nonroot"
	binaryPath = "/usr/local/bin/verdict"
	// Source is the repository the image is built from (org.opencontainers.image.source).
	Source = "https://github.com/verdict-dev/verdict"
)

// Options say what goes into the image.
type Options struct {
	Binary   string    // the static verdict binary
	CACerts  string    // a PEM bundle of CA certificates, installed as /etc/ssl/certs/ca-certificates.crt
	Version  string    // org.opencontainers.image.version, and the tag of the layout's index entry
	Revision string    // org.opencontainers.image.revision: the commit
	Created  time.Time // the image's creation time and every file's modification time
	OS, Arch string
}

func main() {
	var o Options
	var out, push, created string
	flag.StringVar(&o.Binary, "binary", "bin/verdict", "the static verdict binary to put in the image")
	flag.StringVar(&o.CACerts, "ca-certs", "/etc/ssl/certs/ca-certificates.crt", "PEM bundle of CA certificates to install")
	flag.StringVar(&o.Version, "version", "dev", "the image's version label")
	flag.StringVar(&o.Revision, "revision", "", "the image's revision label (the commit)")
	flag.StringVar(&created, "created", "", "creation time, RFC 3339 or Unix seconds (default: $SOURCE_DATE_EPOCH, or the Unix epoch)")
	flag.StringVar(&o.OS, "os", "linux", "the image's OS")
	flag.StringVar(&o.Arch, "arch", runtime.GOARCH, "the image's architecture, that of the binary")
	flag.StringVar(&out, "out", "bin/image", "folder of the OCI image layout to write (replaced)")
	flag.StringVar(&push, "push", "", "also push the image to this reference (registry/name:tag), with the credentials of ~/.docker/config.json")
	flag.Parse()
	if err := run(o, out, push, created); err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(1)
	}
}

func run(o Options, out, push, created string) error {
	if created == "" {
		created = os.Getenv("SOURCE_DATE_EPOCH")
	}
	t, err := parseTime(created)
	if err != nil {
		return err
	}
	o.Created = t
	img, err := Build(o)
	if err != nil {
		return err
	}
	if err := WriteLayout(out, img, o.Version); err != nil {
		return err
	}
	d, _ := img.Digest()
	fmt.Printf("wrote %s (%s)\n", out, d)
	if push == "" {
		return nil
	}
	if err := Push(push, img); err != nil {
		return err
	}
	fmt.Printf("pushed %s@%s\n", push, d)
	return nil
}

// Push writes img to the registry reference (registry/name:tag), with the credentials that
// ~/.docker/config.json (or $DOCKER_CONFIG) names for that registry.
func Push(reference string, img v1.Image, opts ...name.Option) error {
	ref, err := name.ParseReference(reference, opts...)
	if err != nil {
		return err
	}
	if err := remote.Write(ref, img, remote.WithAuthFromKeychain(authn.DefaultKeychain)); err != nil {
		return fmt.Errorf("push %s: %w", ref, err)
	}
	return nil
}

func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Unix(0, 0).UTC(), nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0).UTC(), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("-created %q: want RFC 3339 or Unix seconds", s)
	}
	return t.UTC(), nil
}

// Build assembles the image. The same inputs give the same digest: file times are o.Created, and
// nothing of the building machine (its user, its clock) goes in.
func Build(o Options) (v1.Image, error) {
	bin, err := os.ReadFile(o.Binary)
	if err != nil {
		return nil, err
	}
	if !isStaticELF(bin) {
		return nil, fmt.Errorf("%s is not a statically linked ELF binary: build it with CGO_ENABLED=0", o.Binary)
	}
	certs, err := os.ReadFile(o.CACerts)
	if err != nil {
		return nil, fmt.Errorf("CA certificates: %w", err)
	}
	passwd := fmt.Sprintf("root:x:0:0:root:/root:/sbin/nologin\n%s:x:%d:%d:%s:/home/%s:/sbin/nologin\n", userName, uid, uid, userName, userName)
	group := fmt.Sprintf("root:x:0:\n%s:x:%d:\n", userName, uid)
	base, err := layer(o.Created, []file{
		{name: "etc/", mode: 0o755, dir: true},
		{name: "etc/passwd", mode: 0o644, data: []byte(passwd)},
		{name: "etc/group", mode: 0o644, data: []byte(group)},
		{name: "etc/ssl/", mode: 0o755, dir: true},
		{name: "etc/ssl/certs/", mode: 0o755, dir: true},
		{name: "etc/ssl/certs/ca-certificates.crt", mode: 0o644, data: certs},
		{name: "home/", mode: 0o755, dir: true},
		{name: "home/" + userName + "/", mode: 0o700, dir: true, uid: uid},
		{name: "tmp/", mode: 0o1777, dir: true},
	})
	if err != nil {
		return nil, err
	}
	app, err := layer(o.Created, []file{
		{name: "usr/", mode: 0o755, dir: true},
		{name: "usr/local/", mode: 0o755, dir: true},
		{name: "usr/local/bin/", mode: 0o755, dir: true},
		{name: binaryPath[1:], mode: 0o755, data: bin},
	})
	if err != nil {
		return nil, err
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err = mutate.Append(img,
		mutate.Addendum{Layer: base, History: v1.History{Created: v1.Time{Time: o.Created}, CreatedBy: "hack/image: /etc/passwd, /etc/group, CA certificates, /tmp"}},
		mutate.Addendum{Layer: app, History: v1.History{Created: v1.Time{Time: o.Created}, CreatedBy: "hack/image: " + binaryPath}},
	)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = o.OS, o.Arch
	cf.Created = v1.Time{Time: o.Created}
	cf.Config.User = fmt.Sprintf("%d:%d", uid, uid)
	cf.Config.Entrypoint = []string{binaryPath}
	cf.Config.Cmd = nil
	cf.Config.WorkingDir = "/home/" + userName
	cf.Config.Env = []string{
		"PATH=/usr/local/bin:/usr/bin:/bin",
		"SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt",
	}
	cf.Config.Labels = Labels(o)
	return mutate.ConfigFile(img, cf)
}

// Labels are the image's OCI annotations, as labels of its config.
func Labels(o Options) map[string]string {
	return map[string]string{
		"org.opencontainers.image.source":   Source,
		"org.opencontainers.image.revision": o.Revision,
		"org.opencontainers.image.version":  o.Version,
		"org.opencontainers.image.title":    "verdict",
		"org.opencontainers.image.licenses": "Apache-2.0",
		"org.opencontainers.image.created":  o.Created.Format(time.RFC3339),
	}
}

// WriteLayout replaces dir with an OCI image layout holding img, its index entry named tag
// (org.opencontainers.image.ref.name, so that oci:DIR:TAG finds it).
func WriteLayout(dir string, img v1.Image, tag string) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return err
	}
	return p.AppendImage(img,
		layout.WithPlatform(v1.Platform{OS: cf.OS, Architecture: cf.Architecture}),
		layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": tag}))
}

type file struct {
	name string
	mode int64
	dir  bool
	uid  int
	data []byte
}

// layer makes an uncompressed tar of files, owned by root unless said, dated t, gzipped by tarball.
func layer(t time.Time, files []file) (v1.Layer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		h := &tar.Header{Name: f.name, Mode: f.mode, ModTime: t, Uid: f.uid, Gid: f.uid, Format: tar.FormatPAX}
		if f.dir {
			h.Typeflag = tar.TypeDir
		} else {
			h.Typeflag = tar.TypeReg
			h.Size = int64(len(f.data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	data := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	}, tarball.WithMediaType(types.OCILayer))
}

// isStaticELF reports whether b is an ELF executable with no program interpreter (PT_INTERP): a
// dynamically linked binary cannot run on an empty base.
func isStaticELF(b []byte) bool {
	f, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		return false
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return false
		}
	}
	return f.Type == elf.ET_EXEC || f.Type == elf.ET_DYN
}
