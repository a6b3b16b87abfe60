package httpapi

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"
)

// Pages and the paths the console's deep links never shadow.
const (
	consolePage  = "index.html"
	graphiqlPage = "graphiql.html"
	graphiqlPath = "/graphiql"
)

// reserved are the paths (and the trees under them) that answer 404 rather
// than the console's page when nothing else serves them.
var reserved = []string{"/graphql", graphiqlPath, "/metrics", "/livez", "/readyz", "/assets"}

// assetTypes fixes the Content-Type of every kind of file the build
// writes, whatever the machine's MIME tables say.
var assetTypes = map[string]string{
	".html":  "text/html; charset=utf-8",
	".js":    "text/javascript; charset=utf-8",
	".mjs":   "text/javascript; charset=utf-8",
	".css":   "text/css; charset=utf-8",
	".svg":   "image/svg+xml",
	".png":   "image/png",
	".ico":   "image/x-icon",
	".woff2": "font/woff2",
	".woff":  "font/woff",
	".ttf":   "font/ttf",
	".json":  "application/json",
	".txt":   "text/plain; charset=utf-8",
	".map":   "application/json",
}

// asset is one file of the build, read once.
type asset struct {
	name, ctype, etag string
	body              []byte
	gzipOnce          sync.Once
	gzipped           []byte // nil when compressing does not pay
}

func (a *asset) gzip() []byte {
	a.gzipOnce.Do(func() {
		if len(a.body) < 1024 || strings.HasPrefix(a.ctype, "image/png") || strings.HasPrefix(a.ctype, "font/woff") {
			return
		}
		var b bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
		zw.Write(a.body)
		zw.Close()
		if b.Len() < len(a.body) {
			a.gzipped = b.Bytes()
		}
	})
	return a.gzipped
}

// assets serves the console and GraphiQL from files, the web build:
//
//   - / and any deep link under it that is neither a file nor reserved
//     (/graphql, /graphiql, /metrics, /livez, /readyz, /assets/…): the
//     console's page, index.html;
//   - /graphiql: GraphiQL, graphiql.html;
//   - other files by their path, hashed ones under /assets/ cached for a
//     year, everything else revalidated (no-cache); compressed with gzip
//     when the client accepts it.
//
// Both pages carry a Content-Security-Policy that lets them load nothing
// but their own files and talk to nothing but this server. Methods other
// than GET and HEAD answer 405.
func assets(files fs.FS) http.Handler {
	byPath := map[string]*asset{}
	fs.WalkDir(files, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(files, name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		ctype, ok := assetTypes[path.Ext(name)]
		if !ok {
			ctype = "application/octet-stream"
		}
		byPath["/"+name] = &asset{name: name, ctype: ctype, etag: `"` + hex.EncodeToString(sum[:12]) + `"`, body: body}
		return nil
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		p := r.URL.Path
		a := byPath[p]
		switch {
		case p == graphiqlPath:
			a = byPath["/"+graphiqlPage]
		case a != nil:
		case isReserved(p) || strings.Contains(path.Base(p), "."):
			http.NotFound(w, r)
			return
		default: // the console's own routes
			a = byPath["/"+consolePage]
		}
		if a == nil {
			http.Error(w, "the console is not built: cd web && npm ci && npm run build", http.StatusNotFound)
			return
		}
		serveAsset(w, r, a)
	})
}

func isReserved(p string) bool {
	for _, prefix := range reserved {
		if p == prefix || strings.HasPrefix(p, prefix+"/") {
			return true
		}
	}
	return false
}

func serveAsset(w http.ResponseWriter, r *http.Request, a *asset) {
	h := w.Header()
	h.Set("Content-Type", a.ctype)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("ETag", a.etag)
	h.Set("Vary", "Accept-Encoding")
	switch {
	case strings.HasPrefix(a.name, "assets/"):
		// Vite names these by their content: a new build means new names.
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	default:
		h.Set("Cache-Control", "no-cache")
	}
	if path.Ext(a.name) == ".html" {
		h.Set("Content-Security-Policy", contentSecurityPolicy(r))
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
	}
	body := a.body
	if acceptsGzip(r) {
		if z := a.gzip(); z != nil {
			h.Set("Content-Encoding", "gzip")
			h.Set("ETag", strings.TrimSuffix(a.etag, `"`)+`-gz"`) // another representation
			body = z
		}
	}
	// ServeContent answers If-None-Match and ranges; the ETag is the
	// content's, so the zero time leaves Last-Modified out.
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(enc), "gzip") && strings.ReplaceAll(strings.TrimSpace(q), " ", "") != "q=0" {
			return true
		}
	}
	return false
}

// contentSecurityPolicy is the policy of both pages. They load scripts,
// styles, images and fonts only from this server and connect only to it,
// over HTTP and over its websocket (named explicitly: older browsers do
// not count ws: of the same host as 'self'). The exceptions, each needed:
//
//   - style-src 'unsafe-inline': GraphiQL and CodeMirror set style
//     attributes while they lay out the editors. Scripts stay strict: no
//     inline script, no eval.
//   - img-src and font-src data:: GraphiQL's stylesheet embeds its fonts
//     and an icon as data: URLs.
func contentSecurityPolicy(r *http.Request) string {
	connect := "'self'"
	if host := r.Host; validHost(host) {
		connect += " ws://" + host + " wss://" + host
	}
	return "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; " +
		"connect-src " + connect + "; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
}

// validHost reports whether host (a Host header) is safe to echo into the
// policy: a name or address and an optional port, nothing else.
func validHost(host string) bool {
	if host == "" || len(host) > 255 {
		return false
	}
	for _, c := range host {
		if !(c == '.' || c == '-' || c == ':' || c == '[' || c == ']' || c == '_' ||
			('0' <= c && c <= '9') || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')) {
			return false
		}
	}
	return true
}
