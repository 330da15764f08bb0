package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// pki holds the control plane's certificates: one CA signs the API server's serving
// certificate and the harness's admin client certificate (O=system:masters); the
// service-account key signs pod tokens.
type pki struct {
	dir          string
	caPEM        []byte
	caFile       string
	serverCert   string
	serverKey    string
	adminCert    string
	adminKey     string
	saKey        string
	saPub        string
	adminCertPEM []byte
	adminKeyPEM  []byte
	caKey        *ecdsa.PrivateKey
	caCert       *x509.Certificate
}

func writePEM(path, kind string, der []byte) ([]byte, error) {
	data := pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der})
	return data, os.WriteFile(path, data, 0o600)
}

func newKey() (*ecdsa.PrivateKey, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	der, err := x509.MarshalECPrivateKey(key)
	return key, der, err
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	return n
}

func makePKI(dir string) (*pki, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	p := &pki{dir: dir}
	caKey, caDER, err := newKey()
	if err != nil {
		return nil, err
	}
	if _, err := writePEM(filepath.Join(dir, "ca.key"), "EC PRIVATE KEY", caDER); err != nil {
		return nil, err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "eks6-test-ca"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caCertDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	p.caFile = filepath.Join(dir, "ca.crt")
	if p.caPEM, err = writePEM(p.caFile, "CERTIFICATE", caCertDER); err != nil {
		return nil, err
	}
	p.caKey = caKey
	if p.caCert, err = x509.ParseCertificate(caCertDER); err != nil {
		return nil, err
	}
	sign := func(name string, tmpl *x509.Certificate) (certPath, keyPath string, certPEM, keyPEM []byte, err error) {
		key, der, err := newKey()
		if err != nil {
			return "", "", nil, nil, err
		}
		tmpl.SerialNumber = serial()
		tmpl.NotBefore = now.Add(-time.Hour)
		tmpl.NotAfter = now.Add(24 * time.Hour)
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment
		certDER, err := x509.CreateCertificate(rand.Reader, tmpl, p.caCert, &key.PublicKey, caKey)
		if err != nil {
			return "", "", nil, nil, err
		}
		certPath, keyPath = filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
		if certPEM, err = writePEM(certPath, "CERTIFICATE", certDER); err != nil {
			return "", "", nil, nil, err
		}
		keyPEM, err = writePEM(keyPath, "EC PRIVATE KEY", der)
		return certPath, keyPath, certPEM, keyPEM, err
	}
	if p.serverCert, p.serverKey, _, _, err = sign("apiserver", &x509.Certificate{
		Subject:     pkix.Name{CommonName: "kube-apiserver"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.ParseIP("::1"), net.ParseIP("127.0.0.1")},
		DNSNames:    []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"},
	}); err != nil {
		return nil, err
	}
	if p.adminCert, p.adminKey, p.adminCertPEM, p.adminKeyPEM, err = sign("admin", &x509.Certificate{
		Subject:     pkix.Name{CommonName: "eks6-harness", Organization: []string{"system:masters"}},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}); err != nil {
		return nil, err
	}
	saKey, saDER, err := newKey()
	if err != nil {
		return nil, err
	}
	p.saKey = filepath.Join(dir, "sa.key")
	if _, err := writePEM(p.saKey, "EC PRIVATE KEY", saDER); err != nil {
		return nil, err
	}
	pubDER, err := x509.MarshalPKIXPublicKey(&saKey.PublicKey)
	if err != nil {
		return nil, err
	}
	p.saPub = filepath.Join(dir, "sa.pub")
	if _, err := writePEM(p.saPub, "PUBLIC KEY", pubDER); err != nil {
		return nil, err
	}
	return p, nil
}

// kubeconfig writes the admin kubeconfig (client certificate) and returns its path.
func (p *pki) kubeconfig(path, endpoint string) (string, error) {
	b64 := base64.StdEncoding.EncodeToString
	text := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: eks6-test
  cluster:
    server: %s
    certificate-authority-data: %s
users:
- name: admin
  user:
    client-certificate-data: %s
    client-key-data: %s
contexts:
- name: admin
  context:
    cluster: eks6-test
    user: admin
current-context: admin
`, endpoint, b64(p.caPEM), b64(p.adminCertPEM), b64(p.adminKeyPEM))
	return path, os.WriteFile(path, []byte(text), 0o600)
}
