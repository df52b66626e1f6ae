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

package helper

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/nodecred/nodecred/credentials"
	"github.com/nodecred/nodecred/internal/fakeclock"
	"github.com/nodecred/nodecred/internal/hostmatch"
)

// TestNewTakesRenewal: a source renews a credential ahead of expiry (a
// renewal is scheduled when it is stored) unless
// credentials.WithRenewal(false) turns renewal off.
func TestNewTakesRenewal(t *testing.T) {
	h := newTestHelper(t, map[string]string{"r.io": "u:p"})
	tests := []struct {
		opts []credentials.Option
		want int
	}{
		{nil, 1},
		{[]credentials.Option{credentials.WithRenewal(true)}, 1},
		{[]credentials.Option{credentials.WithRenewal(false)}, 0},
	}
	for _, tt := range tests {
		clock := fakeclock.New()
		s := New(h.program, h.env, hostmatch.Patterns{}, 10*time.Second, tt.opts...)
		s.helper.cache.SetClock(clock.Now, clock.AfterFunc)
		if c, err := s.Get(context.Background(), credentials.Request{Host: "r.io"}); err != nil || c.Username != "u" {
			t.Fatalf("Get = %q, %v", c.Username, err)
		}
		if got := clock.Timers(); got != tt.want {
			t.Errorf("renewal %v: %d renewals scheduled, want %d", credentials.Renewal(tt.opts...), got, tt.want)
		}
		_ = s.Close()
	}
}

// TestHelperServesThroughAnOutage: a real helper answers, then its cloud
// goes down after half the answer's lifetime and stays down past the
// first answer's expiry, then comes back. Pulls keep their credential, because it was
// renewed before the outage; without renewal they fail.
func TestHelperServesThroughAnOutage(t *testing.T) {
	for _, renewal := range []bool{true, false} {
		t.Run(fmt.Sprintf("renewal=%v", renewal), func(t *testing.T) {
			modeFile := filepath.Join(t.TempDir(), "mode")
			h := newTestHelper(t, map[string]string{"r.io": "u:p"}, "CREDHELPER_MODE_FILE="+modeFile)
			clock := fakeclock.New()
			hc := newClient(h.program, h.env, 10*time.Second, clock.Now)
			hc.cache.SetClock(clock.Now, clock.AfterFunc)
			hc.cache.SetRenew(renewal)
			ctx := context.Background()
			failed := 0
			for second := range 100 { // a pull a second; the answer lives a minute
				switch second {
				case 40: // 2/3 of the lifetime, after the renewal at 30-36 s
					writeFile(t, modeFile, "fail")
				case 75: // past the first answer's expiry at 60 s
					writeFile(t, modeFile, "")
				}
				if c, _ := hc.Get(ctx, "r.io"); c.Username != "u" {
					failed++
				}
				clock.Advance(time.Second)
			}
			if renewal && failed != 0 {
				t.Fatalf("%d pulls failed during the outage with renewal, want 0", failed)
			}
			if !renewal && failed == 0 {
				t.Fatal("no pull failed without renewal: the outage did not reach past the answer's expiry")
			}
		})
	}
}
