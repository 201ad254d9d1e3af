package webhook

import (
	"fmt"
	"net"
	"os"
	"path/filepath"

	certutil "k8s.io/client-go/util/cert"
)

// Certificate file names in a certificate folder, as cert-manager and kubebuilder write them.
const (
	CertName = "tls.crt"
	KeyName  = "tls.key"
)

// SelfSigned writes a self-signed serving certificate and key for hosts into dir (creating it), and
// returns their paths. The certificate is also its own CA: give it to the API server as caBundle.
func SelfSigned(dir string, hosts []string) (certPath, keyPath string, err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", "", err
	}
	var ips []net.IP
	var names []string
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			ips = append(ips, ip)
		} else {
			names = append(names, h)
		}
	}
	if len(hosts) == 0 {
		return "", "", fmt.Errorf("no host names for the certificate")
	}
	cert, key, err := certutil.GenerateSelfSignedCertKey(hosts[0], ips, names)
	if err != nil {
		return "", "", fmt.Errorf("generating a self-signed certificate: %w", err)
	}
	certPath, keyPath = filepath.Join(dir, CertName), filepath.Join(dir, KeyName)
	if err := os.WriteFile(certPath, cert, 0o600); err != nil {
		return "", "", err
	}
	if err := os.WriteFile(keyPath, key, 0o600); err != nil {
		return "", "", err
	}
	return certPath, keyPath, nil
}

// DefaultHosts are the names a self-signed certificate is made for: this machine and the names the
// webhook's Service has in a cluster.
func DefaultHosts(service, namespace string) []string {
	hosts := []string{"localhost", "127.0.0.1", "::1"}
	if service != "" && namespace != "" {
		hosts = append(hosts, service+"."+namespace+".svc", service+"."+namespace+".svc.cluster.local")
	}
	return hosts
}
