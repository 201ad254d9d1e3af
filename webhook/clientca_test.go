package webhook

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/verdict-dev/verdict/internal/testkit"
)

// testCA is a certificate authority that signs client certificates.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// client returns a client certificate signed by the CA.
func (ca *testCA) client(t *testing.T, name string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// withClientCert returns a client of the server that presents cert, on a new connection each time.
func (r *running) withClientCert(cert *tls.Certificate) *http.Client {
	cfg := r.client.Transport.(*http.Transport).TLSClientConfig.Clone()
	if cert != nil {
		cfg.Certificates = []tls.Certificate{*cert}
	}
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg, DisableKeepAlives: true}}
}

func accepted(t *testing.T, r *running, c *http.Client) bool {
	t.Helper()
	resp, err := c.Post("https://"+r.webhook+"/validate", "application/json",
		strings.NewReader(createReview(t, 1)))
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func TestClientCAReload(t *testing.T) {
	caFile := filepath.Join(t.TempDir(), "client-ca.crt")
	old, rotated := newTestCA(t, "old"), newTestCA(t, "rotated")
	testkit.WriteFile(t, caFile, string(old.pem))
	r := start(t, func(o *Options) { o.ClientCAFile = caFile })
	oldCert, rotatedCert := old.client(t, "kube-apiserver"), rotated.client(t, "kube-apiserver")
	oldClient, rotatedClient := r.withClientCert(&oldCert), r.withClientCert(&rotatedCert)
	if !accepted(t, r, oldClient) || accepted(t, r, rotatedClient) || accepted(t, r, r.withClientCert(nil)) {
		t.Fatal("the client CA in force is not the file's")
	}

	// Rotated as a Secret volume does, by rename.
	tmp := caFile + ".tmp"
	testkit.WriteFile(t, tmp, string(rotated.pem))
	if err := os.Rename(tmp, caFile); err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, 10*time.Second, "the rotated client CA to accept its client", func() bool { return accepted(t, r, rotatedClient) })
	if accepted(t, r, oldClient) {
		t.Error("a client certificate of the CA rotated out is still accepted")
	}

	// A file that holds no certificate keeps the CA in force.
	testkit.WriteFile(t, caFile, "not a certificate")
	if !accepted(t, r, rotatedClient) {
		t.Error("a broken client CA file replaced the CA in force")
	}
}
