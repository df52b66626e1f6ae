package harness

import (
	"encoding/base64"
	"strings"
)

// SecretForms returns the ways a password can show up in a log: itself, its
// base64 forms and the base64 forms of "user:password" (an HTTP basic
// Authorization header, a docker config "auth" value).
func SecretForms(user, password string) []string {
	forms := []string{password}
	for _, v := range []string{password, user + ":" + password} {
		forms = append(forms,
			base64.StdEncoding.EncodeToString([]byte(v)),
			base64.RawStdEncoding.EncodeToString([]byte(v)),
			base64.URLEncoding.EncodeToString([]byte(v)),
			base64.RawURLEncoding.EncodeToString([]byte(v)),
		)
	}
	return forms
}

// Leaks returns the forms that occur in text.
func Leaks(text string, forms []string) []string {
	var found []string
	for _, f := range forms {
		if f != "" && strings.Contains(text, f) {
			found = append(found, f)
		}
	}
	return found
}
