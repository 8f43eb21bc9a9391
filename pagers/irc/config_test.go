package irc

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/incident-cli/incident/pagers/irc/irctest"
	"github.com/incident-cli/incident/publishers"
	"github.com/incident-cli/incident/publishers/publisherstest"
)

func TestTLS(t *testing.T) {
	cert, pool := testCert(t)
	srv := saslServer(t, irctest.Options{TLS: &tls.Config{Certificates: []tls.Certificate{cert}}})
	p, _ := newPager(t, strings.Replace(srv.URL, "ircs://", "ircs://", 1)+"/#ops", "")
	if !p.tls {
		t.Fatal("ircs:// is not TLS")
	}
	_, err := p.Page(context.Background(), alertPage())
	if err == nil || publishers.Retryable(err) || !strings.Contains(err.Error(), "certificate is not valid") {
		t.Errorf("untrusted certificate: %v, want a permanent refusal", err)
	}
	p.rootCAs = pool
	if _, err := p.Page(context.Background(), alertPage()); err != nil {
		t.Errorf("trusted certificate: %v", err)
	}
}

func testCert(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "irc.test"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

func TestPeople(t *testing.T) {
	p, _ := newPager(t, "irc://127.0.0.1:1/#ops", team)
	if got := p.People(); !slices.Equal(got, []string{"alice", "bob"}) {
		t.Errorf("People() = %v", got)
	}
	pg := alertPage()
	pg.Person = "carol"
	if _, err := p.Page(context.Background(), pg); err == nil || publishers.Retryable(err) || !strings.Contains(err.Error(), `no person "carol"`) {
		t.Errorf("unknown person: %v", err)
	}
	bare, _ := newPager(t, "irc://127.0.0.1:1/#ops", "")
	if _, err := bare.Page(context.Background(), pg); err == nil || !strings.Contains(err.Error(), "has no `to` table") {
		t.Errorf("person without a table: %v", err)
	}
}

func TestConfigErrors(t *testing.T) {
	env := publisherstest.Env(t, "chat", secrets)
	for _, tc := range [][2]string{
		{`nick = "pager"`, "`url` is required"},
		{"url = \"irc://irc.example.org/#ops\"\nnick = \"pager\"", "plain irc:// is allowed only to loopback"},
		{"url = \"https://irc.example.org/#ops\"\nnick = \"pager\"", "scheme must be ircs"},
		{"url = \"ircs://irc.example.org\"\nnick = \"pager\"", "names no channel or nick"},
		{"url = \"ircs://irc.example.org:0/#ops\"\nnick = \"pager\"", "port must be a number"},
		{"url = \"ircs://irc.example.org/#ops\"", "`nick` is required"},
		{"url = \"ircs://irc.example.org/#ops\"\nnick = \"1pager\"", "is not an IRC nick"},
		{"url = \"ircs://irc.example.org/#ops\"\nnick = \"pa ger\"", "is not an IRC nick"},
		{"url = \"ircs://irc.example.org/#ops\"\nnick = \"pager\"\npassword = \"" + password + "\"", "secrets are never written in the config"},
		{"url = \"ircs://u:" + password + "@irc.example.org/#ops\"\nnick = \"pager\"", "not in the url"},
		{"url = \"ircs://irc.example.org/#ops\"\nnick = \"pager\"\n[channel.to]\nalice = \"al ice\"", "to.alice"},
	} {
		prim, md := publisherstest.Decode(t, tc[0])
		_, err := New(prim, md, env)
		if err == nil || !strings.Contains(err.Error(), tc[1]) {
			t.Errorf("New(%q) = %v, want %q", tc[0], err, tc[1])
		}
		if err != nil {
			publisherstest.AssertNoSecret(t, err.Error(), password)
		}
	}
	for _, u := range []string{"ircs://irc.example.org:6697/#ops", "ircs://irc.example.org/%23ops", "ircs://irc.example.org/&local", "ircs://irc.example.org/alice"} {
		prim, md := publisherstest.Decode(t, "url = \""+u+"\"\nnick = \"pager\"")
		pg, err := New(prim, md, env)
		if err != nil {
			t.Errorf("New(%s): %v", u, err)
			continue
		}
		if p := pg.(*Pager); p.port != 6697 || p.target == "" {
			t.Errorf("%s: port %d, target %q", u, p.port, p.target)
		}
	}
	for _, k := range []string{"name", "url", "nick", "password", "notice", "to"} {
		if !slices.Contains(Keys, k) {
			t.Errorf("Keys %v lacks %q", Keys, k)
		}
	}
}
