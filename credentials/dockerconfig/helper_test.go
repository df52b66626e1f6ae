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

package dockerconfig

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nodecred/nodecred/credentials"
	"github.com/nodecred/nodecred/internal/testprog"
)

// TestDockerConfigCredHelpersAndCredsStore: helpers named in a docker
// config run with containerd's environment, as docker runs them, and are
// picked as docker picks them.
func TestDockerConfigCredHelpersAndCredsStore(t *testing.T) {
	h := testprog.NewHelper(t, map[string]string{
		"helped.example.com": "from-helper:p1",
		"stored.example.com": "from-store:p2",
		"auths.example.com":  "from-store:p3",
	})
	t.Setenv("PATH", filepath.Dir(h.Program))
	for _, kv := range h.Env {
		name, value, _ := strings.Cut(kv, "=")
		t.Setenv(name, value)
	}
	path := filepath.Join(t.TempDir(), "config.json")
	cfg := `{
	  "auths": {"auths.example.com": {"auth": "` + b64("from-auths:p4") + `"}, "helped.example.com": {"auth": "` + b64("shadowed:p5") + `"}},
	  "credHelpers": {"helped.example.com": "nodecredtest"},
	  "credsStore": "nodecredtest"
	}`
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	src := New(path, 10*time.Second)
	for host, want := range map[string]string{
		"helped.example.com":  "from-helper", // credHelpers wins over auths, as in docker
		"auths.example.com":   "from-store",  // credsStore ahead of inline auths, as in docker
		"stored.example.com":  "from-store",  // credsStore for hosts without auths
		"missing.example.com": "",
	} {
		c, err := src.Get(context.Background(), credentials.Request{Host: host})
		if err != nil || c.Username != want {
			t.Errorf("%s: got %q, %v; want %q", host, c.Username, err, want)
		}
	}
}

// TestDockerConfigMissingHelperIsAnError: a credsStore whose program is not
// on PATH is the source's error, named, and logged once while it is cached.
func TestDockerConfigMissingHelperIsAnError(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	path := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(path, []byte(`{"credsStore": "absent"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, logs := capturedLog(t)
	src := New(path, 10*time.Second)
	chain := credentials.Chain{{Name: "dockerconfig", Source: src}}
	for range 3 {
		if _, err := src.Get(ctx, credentials.Request{Host: "r.io"}); err == nil || !strings.Contains(err.Error(), "docker-credential-absent not found in PATH") {
			t.Fatalf("err = %v, want the missing helper named", err)
		}
		chain.Get(ctx, credentials.Request{Host: "r.io"})
	}
	if n := strings.Count(logs.String(), "docker-credential-absent"); n != 1 {
		t.Fatalf("logged %d times, want once:\n%s", n, logs)
	}
}

// TestNewTakesRenewal: the helpers a docker config names renew their
// answers unless credentials.WithRenewal(false) turns renewal off.
func TestNewTakesRenewal(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.json")
	if !New(path, 0).helpers.renew || !New(path, 0, credentials.WithRenewal(true)).helpers.renew {
		t.Error("renewal is off by default or when asked for")
	}
	if New(path, 0, credentials.WithRenewal(false)).helpers.renew {
		t.Error("WithRenewal(false) left renewal on")
	}
}
