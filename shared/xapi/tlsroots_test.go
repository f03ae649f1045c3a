package xapi_test

import (
	"crypto/x509"
	"net/http/httptest"
)

func rootsOf(srv *httptest.Server) *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	return pool
}
