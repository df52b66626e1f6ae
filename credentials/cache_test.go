package credentials

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// renewing is an answers cache on a fake clock whose program answers
// "v1", "v2", ... while ok says so, recording when it ran.
type renewing struct {
	clock *fakeClock
	cache *answers[string]
	ok    bool
	runs  []time.Time
	renew func() bool
}

func newRenewing(ttl time.Duration) *renewing {
	r := &renewing{clock: newFakeClock(), ok: true}
	r.cache = newAnswers[string]("helper", "test", r.clock.Now, true)
	r.cache.after = r.clock.AfterFunc
	r.renew = func() bool {
		r.runs = append(r.runs, r.clock.Now())
		if !r.ok {
			return false
		}
		r.cache.store("k", fmt.Sprintf("v%d", len(r.runs)), ttl, r.renew, false)
		return true
	}
	r.cache.store("k", "v0", ttl, r.renew, true)
	return r
}

func (r *renewing) value(t *testing.T) string {
	t.Helper()
	v, _ := r.cache.lookup("k")
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
	if _, ok := r.cache.lookup("k"); ok {
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
	clock := newFakeClock()
	c := newAnswers[string]("helper", "test", clock.Now, true)
	c.after = clock.AfterFunc
	c.store("k", "failure", time.Minute, nil, true)
	if len(clock.timers) != 0 {
		t.Fatal("a failure was scheduled for renewal")
	}
}

func TestRenewalOffBehavesAsTheKubelet(t *testing.T) {
	r := newRenewing(10 * time.Minute)
	r.clock.timers = nil
	r.cache.renew = false
	r.cache.store("k", "v0", 10*time.Minute, r.renew, true)
	if len(r.clock.timers) != 0 {
		t.Fatal("renewal scheduled with renewal off")
	}
}

func TestRejectDropsExactlyOneEntryOncePerBackoff(t *testing.T) {
	clock := newFakeClock()
	c := newAnswers[string]("provider", "test", clock.Now, false)
	c.store("registry:a.io", "a", time.Hour, nil, true)
	c.store("registry:b.io", "b", time.Hour, nil, true)
	if !c.reject("registry:a.io", time.Minute) {
		t.Fatal("reject dropped nothing")
	}
	if _, ok := c.lookup("registry:a.io"); ok {
		t.Fatal("the rejected answer is still served")
	}
	if v, ok := c.lookup("registry:b.io"); !ok || v != "b" {
		t.Fatal("reject dropped another entry")
	}
	c.store("registry:a.io", "a2", time.Hour, nil, true)
	if c.reject("registry:a.io", time.Minute) {
		t.Fatal("a second reject within the backoff dropped the answer")
	}
	clock.Advance(time.Minute)
	if !c.reject("registry:a.io", time.Minute) {
		t.Fatal("a reject after the backoff dropped nothing")
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
			clock := newFakeClock()
			hc := newHelperClient(h.program, h.env, 10*time.Second, clock.Now)
			hc.cache.after = clock.AfterFunc
			hc.cache.renew = renewal
			ctx := context.Background()
			failed := 0
			for second := range 100 { // a pull a second; the answer lives a minute
				switch second {
				case 40: // 2/3 of the lifetime, after the renewal at 30-36 s
					writeFile(t, modeFile, "fail")
				case 75: // past the first answer's expiry at 60 s
					writeFile(t, modeFile, "")
				}
				if c, _ := hc.get(ctx, "r.io"); c.Username != "u" {
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

// TestProviderRenewsAheadOfExpiry: a real provider's Registry answer is
// renewed in the background at half its cacheDuration, so no lookup runs
// it after the first.
func TestProviderRenewsAheadOfExpiry(t *testing.T) {
	count := filepath.Join(t.TempDir(), "count")
	clock := newFakeClock()
	ps := providerSetup(t, providerConfig(`"r.io"`, "10m", map[string]string{
		"PROVIDER_USER": "u", "PROVIDER_PASSWORD": "p", "PROVIDER_COUNT_FILE": count, "PROVIDER_CACHE_DURATION": "10m",
	}), clock.Now, 10*time.Second)
	ps[0].cache.after = clock.AfterFunc
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

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestLookupJoiningARenewal: a lookup whose run joins a renewal of the same
// key (the answer expired while the renewal ran) takes the renewal's answer
// from the cache instead of failing on the renewal's result.
func TestLookupJoiningARenewal(t *testing.T) {
	c := newAnswers[string]("helper", "test", nil, true)
	release := make(chan struct{})
	c.group.DoChan("k", func() (any, error) {
		<-release
		c.store("k", "renewed", time.Minute, nil, false)
		return renewed(true), nil
	})
	go func() {
		time.Sleep(100 * time.Millisecond) // let the lookup join the renewal
		close(release)
	}()
	v, err := c.flight(context.Background(), "k", func() string { return "own run" })
	if err != nil || (v != "renewed" && v != "own run") {
		t.Fatalf("flight = %q, %v", v, err)
	}
}
