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
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nodecred/nodecred/test/e2e/harness"
)

// TestRefusedProviderAnswerIsDropped: a provider's cached answer that the
// registry refuses (401) is dropped, so the next pull runs the provider
// again and gets the credential it now has, instead of failing for the
// answer's whole 10-minute lifetime; a credential that stays wrong costs
// one extra run per failure lifetime, not one per pull.
func TestRefusedProviderAnswerIsDropped(t *testing.T) {
	setup := func(t *testing.T) (c *harness.Containerd, ref, pwFile, count string, reg testRegistry) {
		reg = startRegistry(t, "node", "app/web:1")
		pwFile = filepath.Join(t.TempDir(), "password")
		if err := os.WriteFile(pwFile, []byte("not-the-password"), 0o600); err != nil {
			t.Fatal(err)
		}
		config, binDir, count := installProvider(t, reg.Host, map[string]string{
			"PROVIDER_USER": reg.user, "PROVIDER_PASSWORD_FILE": pwFile, "PROVIDER_CACHE_DURATION": "10m",
		})
		c = startContainerd(t, bins.Containerd, harness.ContainerdConfig{
			HostsDir: hostsDirFor(t, reg),
			Nodecred: nodecredSection("", kubeletSource(config, binDir)),
		})
		return c, reg.Host + "/app/web:1", pwFile, count, reg
	}

	t.Run("recovers on the next pull", func(t *testing.T) {
		c, ref, pwFile, count, reg := setup(t)
		if err := criPull(c, ref, nil); err == nil || !isAuthError(err) {
			t.Fatalf("pull with a wrong credential: %v, want refused", err)
		}
		if err := os.WriteFile(pwFile, []byte(reg.password), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := criPull(c, ref, nil); err != nil {
			t.Fatalf("pull after the provider's credential was fixed: %v", err)
		}
		if err := criPull(c, ref, nil); err != nil {
			t.Fatal(err)
		}
		if runs := lines(t, count); len(runs) != 2 {
			t.Fatalf("provider ran %d times, want 2: the refused answer, then the good one, cached", len(runs))
		}
		log := c.Log()
		if !strings.Contains(log, `msg="registry refused a cached credential"`) {
			t.Errorf("no log line for the dropped answer:\n%s", log)
		}
		if leaks := harness.Leaks(log, harness.SecretForms(reg.user, reg.password)); len(leaks) > 0 {
			t.Errorf("containerd's log carries the password: %v", leaks)
		}
	})

	t.Run("a wrong credential costs one extra run", func(t *testing.T) {
		c, ref, _, count, _ := setup(t)
		for range 4 {
			if err := criPull(c, ref, nil); err == nil {
				t.Fatal("pull with a wrong credential succeeded")
			}
		}
		if runs := lines(t, count); len(runs) != 2 {
			t.Fatalf("4 refused pulls ran the provider %d times, want 2 (one drop per failure lifetime)", len(runs))
		}
	})
}
