package store

import (
	"regexp"
	"strings"
)

// schemePrefix matches a URL scheme and the slashes after it ("mysql://",
// "MYSQL:/"); a bare DSN such as user:pass@tcp(host)/db has none.
var schemePrefix = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*:/+`)

// RedactURL hides the password of a database URL or DSN, for logs and
// errors. Like go-sql-driver, it takes the last "@" as the end of the
// credentials, so a password may contain "@" and still be hidden.
func RedactURL(u string) string {
	scheme := schemePrefix.FindString(u)
	rest := u[len(scheme):]
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return u
	}
	user, _, hasPassword := strings.Cut(rest[:at], ":")
	if !hasPassword {
		return u
	}
	return scheme + user + ":xxxxx" + rest[at:]
}
