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

package answercache

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nodecred/nodecred/internal/fakeclock"
)

// renewing is an answers cache on a fake clock whose program answers
// "v1", "v2", ... while ok says so, recording when it ran.
type renewing struct {
	clock *fakeclock.Clock
	cache *Cache[string]
	ok    bool
	runs  []time.Time
	renew func() bool
}

func newRenewing(ttl time.Duration) *renewing {
	r := &renewing{clock: fakeclock.New(), ok: true}
	r.cache = New[string]("helper", "test", r.clock.Now, true)
	r.cache.SetClock(r.clock.Now, r.clock.AfterFunc)
	r.renew = func() bool {
		r.runs = append(r.runs, r.clock.Now())
		if !r.ok {
			return false
		}
		r.cache.Store("k", fmt.Sprintf("v%d", len(r.runs)), ttl, r.renew, false)
		return true
	}
	r.cache.Store("k", "v0", ttl, r.renew, true)
	return r
}

func (r *renewing) value(t *testing.T) string {
	t.Helper()
	v, _ := r.cache.Lookup("k")
	return v
}

func TestRenewalAtHalfLife(t *testing.T) {
	r := newRenewing(10 * time.Minute)
	r.clock.Advance(4*time.Minute + 59*time.Second)
	if len(r.runs) != 0 {
		t.Fatalf("renewed before half of the lifetime: %v", r.runs)
	}
	r.clock.Advance(61 * time.Second) // half, plus the most jitter (a tenth)
	if len(r.runs) != 1 || r.value(t) != "v1" {
		t.Fatalf("after half of the lifetime: %d runs, serving %q; want 1 and v1", len(r.runs), r.value(t))
	}
	// v1 was just used, so it is renewed in its turn.
	r.clock.Advance(6 * time.Minute)
	if len(r.runs) != 2 || r.value(t) != "v2" {
		t.Fatalf("%d runs, serving %q; want 2 and v2", len(r.runs), r.value(t))
	}
}

func TestUnusedAnswersAreNotRenewed(t *testing.T) {
	r := newRenewing(10 * time.Minute)
	r.clock.Advance(6 * time.Minute) // v0 was used by the lookup that ran for it
	if len(r.runs) != 1 {
		t.Fatalf("%d runs, want 1", len(r.runs))
	}
	// Nobody looks v1 up: it is left to expire.
	r.clock.Advance(11 * time.Minute)
	if len(r.runs) != 1 {
		t.Fatalf("an unused answer was renewed: %d runs", len(r.runs))
	}
	if _, ok := r.cache.Lookup("k"); ok {
		t.Fatal("an expired answer was served")
	}
}

func TestFailedRenewalRetriesWithBackoffAndNeverServesExpired(t *testing.T) {
	r := newRenewing(10 * time.Minute)
	r.ok = false
	for range 60 { // a pull every 10 s
		r.clock.Advance(10 * time.Second)
		r.value(t)
	}
	if r.value(t) != "" {
		t.Fatal("an expired answer was served")
	}
	if len(r.runs) < 3 {
		t.Fatalf("%d renewal runs, want retries", len(r.runs))
	}
	born := time.Unix(1_800_000_000, 0)
	for i, at := range r.runs {
		if !at.Before(born.Add(10 * time.Minute)) {
			t.Errorf("run %d at %s: after the answer expired", i, at.Sub(born))
		}
		if i >= 2 && at.Sub(r.runs[i-1]) < r.runs[i-1].Sub(r.runs[i-2]) {
			t.Errorf("retry gaps shrink: %v", r.runs)
		}
	}
	// Until it expired, the old answer was served.
	r2 := newRenewing(10 * time.Minute)
	r2.ok = false
	r2.clock.Advance(9*time.Minute + 59*time.Second)
	if r2.value(t) != "v0" {
		t.Fatalf("serving %q during failed renewals, want v0", r2.value(t))
	}
}

func TestFailuresAreNotRenewed(t *testing.T) {
	clock := fakeclock.New()
	c := New[string]("helper", "test", clock.Now, true)
	c.SetClock(clock.Now, clock.AfterFunc)
	c.Store("k", "failure", time.Minute, nil, true)
	if clock.Timers() != 0 {
		t.Fatal("a failure was scheduled for renewal")
	}
}

func TestRenewalOffBehavesAsTheKubelet(t *testing.T) {
	r := newRenewing(10 * time.Minute)
	r.clock.DropTimers()
	r.cache.renew = false
	r.cache.Store("k", "v0", 10*time.Minute, r.renew, true)
	if r.clock.Timers() != 0 {
		t.Fatal("renewal scheduled with renewal off")
	}
}

func TestRejectDropsExactlyOneEntryOncePerBackoff(t *testing.T) {
	clock := fakeclock.New()
	c := New[string]("provider", "test", clock.Now, false)
	c.SetRejectBackoff(time.Minute)
	c.Store("registry:a.io", "a", time.Hour, nil, true)
	c.Store("registry:b.io", "b", time.Hour, nil, true)
	if !c.Reject("registry:a.io") {
		t.Fatal("reject dropped nothing")
	}
	if _, ok := c.Lookup("registry:a.io"); ok {
		t.Fatal("the rejected answer is still served")
	}
	if v, ok := c.Lookup("registry:b.io"); !ok || v != "b" {
		t.Fatal("reject dropped another entry")
	}
	c.Store("registry:a.io", "a2", time.Hour, nil, true)
	if c.Reject("registry:a.io") {
		t.Fatal("a second reject within the backoff dropped the answer")
	}
	clock.Advance(time.Minute)
	if !c.Reject("registry:a.io") {
		t.Fatal("a reject after the backoff dropped nothing")
	}
}

// TestLookupJoiningARenewal: a lookup whose run joins a renewal of the same
// key (the answer expired while the renewal ran) takes the renewal's answer
// from the cache instead of failing on the renewal's result.
func TestLookupJoiningARenewal(t *testing.T) {
	c := New[string]("helper", "test", nil, true)
	release := make(chan struct{})
	c.group.DoChan("k", func() (any, error) {
		<-release
		c.Store("k", "renewed", time.Minute, nil, false)
		return renewed(true), nil
	})
	go func() {
		time.Sleep(100 * time.Millisecond) // let the lookup join the renewal
		close(release)
	}()
	v, err := c.Flight(context.Background(), "k", func() string { return "own run" })
	if err != nil || (v != "renewed" && v != "own run") {
		t.Fatalf("flight = %q, %v", v, err)
	}
}

func TestFailureTTL(t *testing.T) {
	for _, tt := range []struct{ timeout, want time.Duration }{
		{time.Second, MinFailureTTL},
		{time.Minute, time.Minute},
	} {
		if got := FailureTTL(tt.timeout); got != tt.want {
			t.Errorf("FailureTTL(%s) = %s, want %s", tt.timeout, got, tt.want)
		}
	}
}

// TestCloseStopsRenewalTimers: closing a cache stops its real timers.
func TestCloseStopsRenewalTimers(t *testing.T) {
	c := New[string]("provider", "test", nil, true)
	renewed := false
	c.Store("k", "v", time.Hour, func() bool { renewed = true; return true }, true)
	if len(c.timers) != 1 {
		t.Fatalf("%d timers, want 1", len(c.timers))
	}
	var timer *time.Timer
	for tm := range c.timers {
		timer = tm
	}
	c.Close()
	if timer.Stop() {
		t.Fatal("the renewal timer was still running after close")
	}
	if _, ok := c.Lookup("k"); ok || renewed {
		t.Fatal("a closed cache serves or renewed")
	}
	c.Store("k", "v", time.Hour, func() bool { return true }, true)
	if _, ok := c.Lookup("k"); ok || len(c.timers) != 0 {
		t.Fatal("a closed cache stored an answer or scheduled a renewal")
	}
}
