package httpapi

import (
	_ "embed"
	"net/http"
)

//go:embed ide.html
var ideHTML []byte

// ideHandler serves GraphiQL pointed at /graphql. It asks for the API key
// once, keeps it in the browser's local storage, and sends it both as the
// Authorization header and in the websocket's connection_init payload, so
// subscriptions work too. GraphiQL itself loads from a CDN.
func ideHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		w.Write(ideHTML)
	})
}
