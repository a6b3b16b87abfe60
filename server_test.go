package main

import (
	"context"
	"net/http"
	"testing"
)

// TestServerTimeouts: a client cannot hold a connection by sending its
// headers slowly or by keeping it idle; nothing bounds a whole connection,
// which would end SSE streams and websockets (the handler bounds each
// request's body and operation).
func TestServerTimeouts(t *testing.T) {
	srv := newServer(context.Background(), http.NotFoundHandler())
	if srv.ReadHeaderTimeout <= 0 || srv.IdleTimeout <= 0 {
		t.Errorf("ReadHeaderTimeout = %v, IdleTimeout = %v; want both set", srv.ReadHeaderTimeout, srv.IdleTimeout)
	}
	if srv.ReadTimeout != 0 || srv.WriteTimeout != 0 {
		t.Errorf("ReadTimeout = %v, WriteTimeout = %v; want none", srv.ReadTimeout, srv.WriteTimeout)
	}
}
