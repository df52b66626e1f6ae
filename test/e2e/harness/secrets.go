/*
   Copyright The nodecred Authors.

   Licensed under the Apache License, Version 2.0 (the "License");
   you may not use this file except in compliance with the License.
   You may obtain a copy of the License at

       http://www.apache.org/licenses/LICENSE-2.0

   Unless required by applicable law or agreed to in writing, software
   distributed under the License is distributed on an "AS IS" BASIS,
   WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
   See the License for the specific language governing permissions and
   limitations under the License.
*/

package harness

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"sync"
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

// Secrets remembers every secret form a suite has made, for the scans of
// logs, errors and output; safe for concurrent tests.
type Secrets struct {
	mu    sync.Mutex
	forms []string
}

// NewPassword returns a random password and remembers its forms, with
// user's.
func (s *Secrets) NewPassword(user string) string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	p := "pw-" + hex.EncodeToString(b)
	s.mu.Lock()
	s.forms = append(s.forms, SecretForms(user, p)...)
	s.mu.Unlock()
	return p
}

// Leaks returns the remembered forms that occur in text.
func (s *Secrets) Leaks(text string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Leaks(text, s.forms)
}

// Len is how many forms are remembered.
func (s *Secrets) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.forms)
}
