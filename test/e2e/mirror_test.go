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

package e2e

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/nodecred/nodecred/test/e2e/harness"
)

// authRecorder is a reverse proxy in front of a real registry that records
// the basic-auth user names it is sent. It stands as the mirror host.
type authRecorder struct {
	*httptest.Server
	mu       sync.Mutex
	requests int
	users    []string
	other    int // Authorization headers that were not basic auth
}

func newAuthRecorder(t *testing.T, backend string) *authRecorder {
	u, _ := url.Parse("http://" + backend)
	proxy := httputil.NewSingleHostReverseProxy(u)
	a := &authRecorder{}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		a.requests++
		if r.Header.Get("Authorization") != "" {
			if user, _, ok := r.BasicAuth(); ok {
				a.users = append(a.users, user)
			} else {
				a.other++
			}
		}
		a.mu.Unlock()
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(a.Close)
	return a
}

func (a *authRecorder) host() string { return strings.TrimPrefix(a.URL, "http://") }

func (a *authRecorder) seen() (users []string, other int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.users...), a.other
}

func (a *authRecorder) requestCount() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.requests
}

func TestMirrorGetsOnlyItsOwnCredentials(t *testing.T) {
	upstream := startRegistry(t, "upstream-user", "lib/app:1")
	mirror := startRegistry(t, "mirror-user", "lib/app:1")
	recorder := newAuthRecorder(t, mirror.Host)
	hostsDir := t.TempDir()
	if err := harness.WriteHostsToml(hostsDir, upstream.Host, upstream.Host, recorder.host()); err != nil {
		t.Fatal(err)
	}
	secretDir := t.TempDir()
	upstreamSource := staticSource(upstream.Host, upstream.user, writeFile(t, secretDir, "upstream", upstream.password))
	mirrorSource := staticSource(recorder.host(), mirror.user, writeFile(t, secretDir, "mirror", mirror.password))
	ref := upstream.Host + "/lib/app:1"

	t.Run("mirror has credentials", func(t *testing.T) {
		c := startContainerd(t, bins.Containerd, harness.ContainerdConfig{
			HostsDir: hostsDir,
			Nodecred: nodecredSection("", upstreamSource, mirrorSource),
		})
		if err := criPull(c, ref, nil); err != nil {
			t.Fatalf("pull through mirror: %v", err)
		}
		users, other := recorder.seen()
		if len(users) == 0 || other != 0 {
			t.Fatalf("mirror saw basic-auth users %v and %d other auth headers; want the mirror's own user", users, other)
		}
		for _, u := range users {
			if u != mirror.user {
				t.Fatalf("mirror was sent credentials of user %q; want only %q", u, mirror.user)
			}
		}
	})

	t.Run("only upstream has credentials", func(t *testing.T) {
		before, _ := recorder.seen()
		requestsBefore := recorder.requestCount()
		c := startContainerd(t, bins.Containerd, harness.ContainerdConfig{
			HostsDir: hostsDir,
			Nodecred: nodecredSection("", upstreamSource),
		})
		// The mirror refuses the anonymous pull and containerd falls back to
		// the upstream host, which gets its own credentials.
		if err := criPull(c, ref, nil); err != nil {
			t.Fatalf("pull falling back to upstream: %v", err)
		}
		if recorder.requestCount() == requestsBefore {
			t.Fatalf("the pull never contacted the mirror")
		}
		users, other := recorder.seen()
		if len(users) != len(before) || other != 0 {
			t.Fatalf("mirror was sent credentials (users %v, %d other) although none are configured for it", users[len(before):], other)
		}
	})
}
