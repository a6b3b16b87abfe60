// Package web holds the built console and GraphiQL pages. The TypeScript
// sources sit beside this file; their build output in dist/ is committed,
// so the Go binary embeds it without Node. Rebuild with: npm ci && npm run build.
package web

import (
	"embed"
	"io/fs"
)

//go:embed all:dist
var dist embed.FS

// Dist is the build output: index.html (the console), graphiql.html, and
// the hashed files under assets/ that they load.
var Dist fs.FS = mustSub(dist, "dist")

func mustSub(f fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(f, dir)
	if err != nil {
		panic(err)
	}
	return sub
}
