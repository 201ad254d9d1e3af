package main

import (
	"archive/tar"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

var layoutDir = flag.String("layout", "../../bin/image", "the OCI image layout that make image wrote")

// openImage opens the one image of the layout that make image wrote.
func openImage(t *testing.T) (v1.Image, v1.Descriptor) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(*layoutDir, "oci-layout")); err != nil {
		t.Fatalf("%v: run make test-image, which writes the layout first", err)
	}
	p, err := layout.FromPath(*layoutDir)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Manifests) != 1 {
		t.Fatalf("index.json lists %d manifests, want 1", len(m.Manifests))
	}
	desc := m.Manifests[0]
	img, err := p.Image(desc.Digest)
	if err != nil {
		t.Fatal(err)
	}
	return img, desc
}

// files reads a layer's tar: name to header and content.
func files(t *testing.T, l v1.Layer) (map[string]*tar.Header, map[string][]byte) {
	t.Helper()
	rc, err := l.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	headers, data := map[string]*tar.Header{}, map[string][]byte{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return headers, data
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		headers[h.Name], data[h.Name] = h, b
	}
}

func TestImageLayout(t *testing.T) {
	img, desc := openImage(t)
	if desc.MediaType != types.OCIManifestSchema1 {
		t.Errorf("manifest media type %s, want %s", desc.MediaType, types.OCIManifestSchema1)
	}
	if desc.Platform == nil || desc.Platform.OS != "linux" {
		t.Errorf("index entry platform %v, want linux", desc.Platform)
	}
	tag := desc.Annotations["org.opencontainers.image.ref.name"]
	if tag == "" {
		t.Error("index entry has no org.opencontainers.image.ref.name")
	}

	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	c := cf.Config
	if c.User != "65532:65532" {
		t.Errorf("user %q, want 65532:65532", c.User)
	}
	if len(c.Entrypoint) != 1 || c.Entrypoint[0] != binaryPath {
		t.Errorf("entrypoint %q, want [%s]", c.Entrypoint, binaryPath)
	}
	if c.Labels["org.opencontainers.image.source"] != Source {
		t.Errorf("source label %q, want %q", c.Labels["org.opencontainers.image.source"], Source)
	}
	version, revision := c.Labels["org.opencontainers.image.version"], c.Labels["org.opencontainers.image.revision"]
	if version == "" || version != tag {
		t.Errorf("version label %q, want the index entry's tag %q", version, tag)
	}
	if len(revision) != 40 {
		t.Errorf("revision label %q is not a commit", revision)
	}

	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	if len(layers) != 2 || len(cf.RootFS.DiffIDs) != 2 {
		t.Fatalf("%d layers, want 2: the base files and the binary", len(layers))
	}
	for i, l := range layers {
		if mt, _ := l.MediaType(); mt != types.OCILayer {
			t.Errorf("layer %d media type %s, want %s", i, mt, types.OCILayer)
		}
	}

	// The base: the user, the CA certificates, /tmp.
	headers, data := files(t, layers[0])
	if !strings.Contains(string(data["etc/passwd"]), "nonroot:x:65532:65532:") {
		t.Errorf("/etc/passwd has no entry for 65532:\n%s", data["etc/passwd"])
	}
	n := 0
	for rest := data["etc/ssl/certs/ca-certificates.crt"]; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		if _, err := x509.ParseCertificate(b.Bytes); err != nil {
			t.Fatalf("ca-certificates.crt: %v", err)
		}
		n++
	}
	if n == 0 {
		t.Error("ca-certificates.crt holds no certificate")
	}
	if h := headers["tmp/"]; h == nil || h.Mode != 0o1777 {
		t.Errorf("/tmp: %v, want a directory of mode 1777", h)
	}

	// The binary: owned by root, executable, and it runs.
	headers, data = files(t, layers[1])
	h := headers[binaryPath[1:]]
	if h == nil || h.Mode != 0o755 || h.Uid != 0 {
		t.Fatalf("%s: %+v, want mode 0755 owned by root", binaryPath, h)
	}
	bin := filepath.Join(t.TempDir(), "verdict")
	if err := os.WriteFile(bin, data[binaryPath[1:]], 0o755); err != nil {
		t.Fatal(err)
	}
	if !isStaticELF(data[binaryPath[1:]]) {
		t.Errorf("%s is not statically linked", binaryPath)
	}
	out, err := exec.Command(bin, "version", "-o", "json").Output()
	if err != nil {
		t.Fatalf("verdict version -o json: %v", err)
	}
	var v struct{ Version, Commit, BuildDate, Go, Kubernetes string }
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if v.Version != version || v.Commit != revision {
		t.Errorf("the binary says version %q commit %q; the labels say %q and %q", v.Version, v.Commit, version, revision)
	}
	if !strings.HasPrefix(v.Kubernetes, "v1.") {
		t.Errorf("the binary names Kubernetes %q", v.Kubernetes)
	}
}

// A binary that needs a dynamic loader cannot run on an empty base, and is refused.
func TestBuildRefusesADynamicBinary(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip(err)
	}
	sh, _ = filepath.EvalSymlinks(sh)
	_, err = Build(Options{Binary: sh, CACerts: "/etc/ssl/certs/ca-certificates.crt"})
	if err == nil || !strings.Contains(err.Error(), "CGO_ENABLED=0") {
		t.Errorf("Build(%s) = %v, want a refusal naming CGO_ENABLED=0", sh, err)
	}
}

// make image PUSH=... pushes the image it wrote: here to an in-memory registry on loopback.
func TestPush(t *testing.T) {
	img, desc := openImage(t)
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	t.Setenv("DOCKER_CONFIG", t.TempDir()) // no credentials: the test registry asks for none
	ref := srv.Listener.Addr().String() + "/verdict:test"
	if err := Push(ref, img, name.Insecure); err != nil {
		t.Fatal(err)
	}
	parsed, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	got, err := remote.Head(parsed)
	if err != nil {
		t.Fatal(err)
	}
	if got.Digest != desc.Digest {
		t.Errorf("the registry holds %s, the layout %s", got.Digest, desc.Digest)
	}
}
