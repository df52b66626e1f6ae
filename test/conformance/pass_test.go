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

package conformance

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nodecred/nodecred/test/e2e/harness"
)

// passKeyID is the GnuPG user id the test store is initialised for.
const passKeyID = "nodecred-conformance@example.com"

// passStore is a password store made as its users make one (a GnuPG key,
// `pass init`), with credentials saved in it by docker-credential-pass
// itself, as `docker login` saves them when credsStore is "pass".
type passStore struct {
	// env is what pass and gpg need from containerd's environment.
	env []string
}

// newPassStore makes the store and its key, without a passphrase, as on a
// node where pass serves a daemon. It skips t where pass or gpg is missing:
// they are Debian packages, which `make conformance` installs where it can.
func newPassStore(t *testing.T) passStore {
	t.Helper()
	for _, prog := range []string{"pass", "gpg", "gpgconf", "gpg-connect-agent"} {
		if _, err := exec.LookPath(prog); err != nil {
			t.Skipf("%s is not installed (Debian: apt-get install pass gnupg), so docker-credential-pass cannot run: %v", prog, err)
		}
	}
	// Short: gpg-agent's socket lives in GNUPGHOME, and a socket path has
	// a length limit.
	dir, err := os.MkdirTemp("", "ncpass")
	if err != nil {
		t.Fatal(err)
	}
	gnupg := filepath.Join(dir, "gnupg")
	if err := os.Mkdir(gnupg, 0o700); err != nil {
		t.Fatal(err)
	}
	s := passStore{env: []string{"GNUPGHOME=" + gnupg, "PASSWORD_STORE_DIR=" + filepath.Join(dir, "store")}}
	t.Cleanup(func() {
		s.run(t, "", "gpgconf", "--kill", "gpg-agent")
		os.RemoveAll(dir)
	})
	if _, err := s.run(t, "", "gpg", "--batch", "--passphrase", "", "--quick-gen-key", passKeyID, "default", "default", "never"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.run(t, "", "pass", "init", passKeyID); err != nil {
		t.Fatal(err)
	}
	return s
}

// run runs a program with the store's environment on top of the test's.
func (s passStore) run(t *testing.T, stdin, prog string, args ...string) (string, error) {
	t.Helper()
	r := runDirect(t, prog, args, stdin, append(os.Environ(), s.env...), time.Minute, "")
	if r.Exit != 0 {
		return "", fmt.Errorf("%s %s: exit %d (-1: killed after a minute): %s", prog, strings.Join(args, " "), r.Exit, r.Stderr)
	}
	return r.Stdout, nil
}

// store saves user and secret for server with the real helper's `store`,
// the request `docker login` sends it.
func (s passStore) store(t *testing.T, helper, server, user, secret string) {
	t.Helper()
	req, err := json.Marshal(map[string]string{"ServerURL": server, "Username": user, "Secret": secret})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.run(t, string(req), helper, "store"); err != nil {
		t.Fatal(err)
	}
}

// agentRunning reports whether a gpg-agent answers on the store's socket,
// without starting one. gpg-connect-agent exits 0 either way; only an
// agent answers GETINFO pid with a data line.
func (s passStore) agentRunning(t *testing.T) bool {
	t.Helper()
	out, err := s.run(t, "", "gpg-connect-agent", "--no-autostart", "GETINFO pid", "/bye")
	return err == nil && strings.HasPrefix(out, "D ")
}

// TestPassHelper runs docker-credential-pass over a real pass and GnuPG
// store, reached through containerd's environment (GNUPGHOME,
// PASSWORD_STORE_DIR and PATH, as a systemd drop-in sets them), in the two
// ways nodes name it: config.json's credsStore, which docker login writes,
// and a helper source. The password exists only in the store.
func TestPassHelper(t *testing.T) {
	bin := program(t, passHelper)
	s := newPassStore(t)
	user, password := "pass-user", "pass-"+randomHex(16)
	remember(user, password)
	reg := privateRegistry(t, user, password, "private/pause:3.10", "team/app:1")
	s.store(t, bin, reg.Host, user, password)
	hostsDir := t.TempDir()
	if err := harness.WriteHostsToml(hostsDir, reg.Host, reg.Host); err != nil {
		t.Fatal(err)
	}
	env := append(append([]string(nil), s.env...),
		"PATH="+filepath.Dir(bin)+":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
	dockerConfig := writeFile(t, t.TempDir(), "config.json", `{"credsStore": "pass"}`)
	for _, tc := range []struct{ name, source, decision string }{
		{"credsStore", fmt.Sprintf("type = \"dockerconfig\"\npath = %q\ntimeout = \"30s\"", dockerConfig), `source="dockerconfig:` + dockerConfig + `"`},
		{"helper source", helperSource(bin, reg.Host), `source="helper:` + bin + `"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// No agent runs: the first helper run under containerd starts
			// one, as gpg does for any caller.
			if _, err := s.run(t, "", "gpgconf", "--kill", "gpg-agent"); err != nil {
				t.Fatal(err)
			}
			if s.agentRunning(t) {
				t.Fatal("gpg-agent still runs after gpgconf --kill")
			}
			c := startContainerd(t, bins.Containerd, harness.ContainerdConfig{
				HostsDir:     hostsDir,
				SandboxImage: reg.Host + "/private/pause:3.10",
				Nodecred:     nodecredSection(tc.source),
				Env:          env,
			})
			checkPulls(t, c, reg.Host+"/private/pause:3.10", reg.Host+"/team/app:1")
			if d := decisions(c, reg.Host); len(d) == 0 || !strings.Contains(d[0], tc.decision) {
				t.Errorf("no credential decision for %s naming %s: %q", reg.Host, tc.decision, d)
			}
			// The docker CLI leaves what a helper started alone; so does
			// nodecred: gpg-agent daemonizes out of the helper's process
			// group and pipes, and keeps serving later runs.
			if !s.agentRunning(t) {
				t.Errorf("gpg-agent, started by the helper's first run, no longer runs after the pulls")
			}
		})
	}
}
