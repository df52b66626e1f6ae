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
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nodecred/nodecred/test/e2e/harness"
)

// TestPullsSurviveProviderOutage: a provider answers with a 12 s lifetime;
// its cloud goes down after half of it and stays down past the answer's
// expiry. With renewal, the answer was renewed before the outage and a pull
// after the first expiry succeeds; with renew = false, as with the kubelet,
// that pull runs the provider, which fails, and the pull is refused.
func TestPullsSurviveProviderOutage(t *testing.T) {
	for _, renew := range []bool{true, false} {
		t.Run(fmt.Sprintf("renew=%v", renew), func(t *testing.T) {
			reg := startRegistry(t, "node", "app/web:1")
			modeFile := filepath.Join(t.TempDir(), "mode")
			config, binDir, count := installProvider(t, reg.Host, map[string]string{
				"PROVIDER_USER": reg.user, "PROVIDER_PASSWORD": reg.password,
				"PROVIDER_CACHE_DURATION": "12s", "PROVIDER_MODE_FILE": modeFile,
			})
			c := startContainerd(t, bins.Containerd, harness.ContainerdConfig{
				HostsDir: hostsDirFor(t, reg),
				Nodecred: nodecredSection("", kubeletSource(config, binDir)+fmt.Sprintf("\nrenew = %v", renew)),
			})
			ref := reg.Host + "/app/web:1"
			start := time.Now()
			pullAt := func(at time.Duration) error {
				time.Sleep(time.Until(start.Add(at)))
				return criPull(c, ref, nil)
			}
			for _, at := range []time.Duration{0, 2 * time.Second, 4 * time.Second} {
				if err := pullAt(at); err != nil {
					t.Fatalf("pull at %s, before the outage: %v", at, err)
				}
			}
			// Renewal, when on, runs at 6 to 7.2 s.
			time.Sleep(time.Until(start.Add(8 * time.Second)))
			if err := os.WriteFile(modeFile, []byte("fail"), 0o600); err != nil {
				t.Fatal(err)
			}
			err := pullAt(14 * time.Second) // the first answer expired at 12 s
			runs := lines(t, count)
			switch {
			case renew && err != nil:
				t.Fatalf("pull during the outage, past the first answer's expiry: %v (provider runs: %d)", err, len(runs))
			case renew && len(runs) < 2:
				t.Fatalf("the provider ran %d times; want a renewal before the outage", len(runs))
			case !renew && (err == nil || !isAuthError(err)):
				t.Fatalf("without renewal the pull after expiry should fail for want of credentials, got %v", err)
			}
		})
	}
}
