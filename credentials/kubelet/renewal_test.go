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

package kubelet

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/nodecred/nodecred/internal/fakeclock"
)

// TestProviderRenewsAheadOfExpiry: a real provider's Registry answer is
// renewed in the background at half its cacheDuration, so no lookup runs
// it after the first.
func TestProviderRenewsAheadOfExpiry(t *testing.T) {
	count := filepath.Join(t.TempDir(), "count")
	clock := fakeclock.New()
	ps := providerSetup(t, providerConfig(`"r.io"`, "10m", map[string]string{
		"PROVIDER_USER": "u", "PROVIDER_PASSWORD": "p", "PROVIDER_COUNT_FILE": count, "PROVIDER_CACHE_DURATION": "10m",
	}), clock.Now, 10*time.Second)
	ps[0].cache.SetClock(clock.Now, clock.AfterFunc)
	for minute := range 30 {
		if c := ask(ps, "r.io", "r.io/app:1"); c.Username != "u" {
			t.Fatalf("minute %d: got %q", minute, c.Username)
		}
		clock.Advance(time.Minute)
	}
	// One run for the first lookup, then one renewal per 5-6 minutes.
	if n := countLines(t, count); n < 5 || n > 7 {
		t.Fatalf("provider ran %d times in 30 minutes of lookups, want 1 + one per half-life", n)
	}
}
