package webhook

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"sync"

	"github.com/go-logr/logr"
)

// clientCAs holds the pool of the --client-ca file and reads the file again when it changes, so
// that a rotated CA is taken without a restart, as certwatcher takes a rotated serving certificate.
// It looks at the file (one stat) at each TLS handshake: the API server keeps its connections, so
// handshakes are few, and the first one after a rotation already sees the new CA. A file that does
// not read, or holds no certificate, keeps the pool in force, logged.
type clientCAs struct {
	file string
	log  logr.Logger

	mu     sync.Mutex
	seen   os.FileInfo // of the file the pool was read from
	pool   *x509.CertPool
	config *tls.Config // the server's, with pool; made again when pool changes
	made   *x509.CertPool
}

// newClientCAs reads the CA file; it must hold a certificate.
func newClientCAs(file string, log logr.Logger) (*clientCAs, error) {
	c := &clientCAs{file: file, log: log}
	info, pool, err := readCAs(file)
	if err != nil {
		return nil, err
	}
	c.seen, c.pool = info, pool
	return c, nil
}

func readCAs(file string) (os.FileInfo, *x509.CertPool, error) {
	info, err := os.Stat(file)
	if err != nil {
		return nil, nil, fmt.Errorf("reading the client CA: %w", err)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, nil, fmt.Errorf("reading the client CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, nil, fmt.Errorf("%s holds no PEM certificate", file)
	}
	return info, pool, nil
}

// refresh reads the file again if it is not the one the pool was read from. Call with mu held.
func (c *clientCAs) refresh() {
	info, err := os.Stat(c.file)
	if err != nil || (os.SameFile(info, c.seen) && info.ModTime().Equal(c.seen.ModTime()) && info.Size() == c.seen.Size()) {
		return // a file gone for a moment (a symlink being swapped) keeps the pool
	}
	c.seen = info // a file that does not read is not read again until it changes
	_, pool, err := readCAs(c.file)
	if err != nil {
		c.log.Error(err, "reloading the client CA; keeping the one in force")
		return
	}
	c.pool = pool
	c.log.Info("reloaded the client CA", "file", c.file)
}

// configFor returns a GetConfigForClient for base, the server's TLS configuration: base with the
// client CAs as they are now.
func (c *clientCAs) configFor(base *tls.Config) func(*tls.ClientHelloInfo) (*tls.Config, error) {
	return func(*tls.ClientHelloInfo) (*tls.Config, error) {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.refresh()
		if c.config == nil || c.made != c.pool {
			cfg := base.Clone()
			cfg.GetConfigForClient = nil
			cfg.ClientCAs = c.pool
			cfg.ClientAuth = tls.RequireAndVerifyClientCert
			c.config, c.made = cfg, c.pool
		}
		return c.config, nil
	}
}
