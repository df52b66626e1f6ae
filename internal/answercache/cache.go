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

// Package answercache is the one cache of the credential programs' answers
// (helpers and providers): answers with a lifetime each, one program run
// per key at a time, and renewal ahead of expiry.
package answercache

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/containerd/log"
	"golang.org/x/sync/singleflight"

	"github.com/nodecred/nodecred/internal/logs"
	"github.com/nodecred/nodecred/metrics"
)

// Cache is the one cache of the exec sources (helpers and providers): a
// map of answers with a lifetime each, one program run per key at a time,
// and renewal ahead of expiry.
//
// Renewal: an answer stored with a renew function is looked at once half
// of its lifetime (plus up to a tenth, as jitter) has passed. If a lookup
// used it during this lifetime, renew runs in the background; renew stores
// the new answer itself, and only when the run succeeded, so a failed
// renewal keeps the answer until it expires. A failed renewal is retried
// with backoff while the answer lives. Nothing expired is served. Failures
// are stored without renew: they keep their short lifetime and are run
// again only when a lookup asks.
type Cache[V any] struct {
	kind, program string // metric and log labels
	clock         func() time.Time
	// after runs f after d, like time.AfterFunc; tests replace it. nil:
	// time.AfterFunc, with the timer kept for Close.
	after func(d time.Duration, f func())
	renew bool // renewal on; off behaves as the kubelet does
	// rejectBackoff is how long after dropping a rejected answer Reject
	// leaves the next answer for the same key alone.
	rejectBackoff time.Duration

	mu      sync.Mutex
	entries map[string]*answer[V]
	rejects map[string]time.Time // when a key was last dropped as rejected
	timers  map[*time.Timer]struct{}
	closed  bool // its program was removed from the config: nothing is run or kept any more
	group   singleflight.Group
}

type answer[V any] struct {
	value   V
	born    time.Time
	expires time.Time
	used    bool        // looked up during this lifetime
	renew   func() bool // runs the program again and stores its answer; nil: never renewed
}

// New returns a cache whose metrics and logs name kind and program (no
// metrics when program is ""), on clock (nil: time.Now), with renewal on
// when renew is set.
func New[V any](kind, program string, clock func() time.Time, renew bool) *Cache[V] {
	if clock == nil {
		clock = time.Now
	}
	return &Cache[V]{
		kind: kind, program: program, clock: clock, renew: renew,
		rejectBackoff: MinFailureTTL,
		entries:       map[string]*answer[V]{},
		rejects:       map[string]time.Time{},
		timers:        map[*time.Timer]struct{}{},
	}
}

// SetClock replaces the cache's clock and its timers (after runs f after
// d, like time.AfterFunc), so that tests move time by hand. Call it before
// the cache is used.
func (c *Cache[V]) SetClock(now func() time.Time, after func(d time.Duration, f func())) {
	c.clock, c.after = now, after
}

// SetRenew turns renewal on or off. Call it before the cache is used.
func (c *Cache[V]) SetRenew(on bool) { c.renew = on }

// SetRejectBackoff sets how long after dropping a rejected answer Reject
// leaves the next answer for the same key alone; FailureTTL of the
// program's timeout, so that a plainly wrong credential runs the program
// no more often than a failing one. It is MinFailureTTL until set.
func (c *Cache[V]) SetRejectBackoff(d time.Duration) { c.rejectBackoff = d }

// later runs f after d unless the cache is closed first.
func (c *Cache[V]) later(d time.Duration, f func()) {
	if c.after != nil {
		c.after(d, func() {
			if !c.Closed() {
				f()
			}
		})
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	var t *time.Timer
	// c.mu is held until t is set and kept, so f's own locking waits for it.
	t = time.AfterFunc(d, func() {
		c.mu.Lock()
		delete(c.timers, t)
		c.mu.Unlock()
		f()
	})
	c.timers[t] = struct{}{}
}

// Close drops every answer and stops every renewal: the cache's program
// was removed from the config or changed, or containerd is stopping.
// Nothing is stored, renewed or run for it afterwards.
func (c *Cache[V]) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	for t := range c.timers {
		t.Stop()
	}
	clear(c.timers)
	clear(c.entries)
}

// Closed reports whether the cache was closed.
func (c *Cache[V]) Closed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// Lookup returns the live answer for key and marks it used.
func (c *Cache[V]) Lookup(key string) (V, bool) {
	now := c.clock()
	c.mu.Lock()
	a, ok := c.entries[key]
	if ok && now.Before(a.expires) {
		a.used = true
		c.mu.Unlock()
		if c.program != "" {
			metrics.Served(c.kind, c.program, a.expires.Sub(now))
		}
		return a.value, true
	}
	c.mu.Unlock()
	var zero V
	return zero, false
}

// Flight runs fn once for all concurrent callers for key and counts each
// caller that had to wait for a run. fn runs detached from every caller,
// bounded by its program's own timeout, so that the callers who still want
// the answer get it; each caller stops waiting when its own ctx is done, as
// a cancelled pull should.
//
// Renewals of key run in the same singleflight group, so that a key has one
// run at a time; a caller that joined a renewal reads the cache after it,
// and runs fn itself if the renewal failed.
func (c *Cache[V]) Flight(ctx context.Context, key string, fn func() V) (V, error) {
	metrics.Waited(c.kind, c.program)
	for {
		ch := c.group.DoChan(key, func() (any, error) { return fn(), nil })
		select {
		case r := <-ch:
			if v, ok := r.Val.(V); ok {
				return v, nil
			}
			if v, ok := c.Lookup(key); ok { // a renewal ran and stored its answer
				return v, nil
			}
		case <-ctx.Done():
			var zero V
			return zero, ctx.Err()
		}
	}
}

// MinFailureTTL is the shortest time a failing helper or provider is left
// alone.
const MinFailureTTL = 5 * time.Second

// FailureTTL is how long a failed run is remembered: never shorter than the
// program's timeout, so that a program that hangs or retries until it is
// killed is not started again straight away, and runs at most half the time.
func FailureTTL(timeout time.Duration) time.Duration {
	return max(MinFailureTTL, timeout)
}

// renewed is the outcome of a renewal run in the singleflight group, told
// apart from a lookup's answer by its type.
type renewed bool

// Store keeps value for ttl under key, replacing what was there; a ttl of
// zero or less stores nothing (the kubelet's "do not cache"). renew, when
// set and renewal is on, is how the answer is renewed ahead of expiry.
// used says whether a lookup is about to use the answer (it was run for
// one), as opposed to a renewal that nobody has used yet.
func (c *Cache[V]) Store(key string, value V, ttl time.Duration, renew func() bool, used bool) {
	if ttl <= 0 {
		return
	}
	now := c.clock()
	a := &answer[V]{value: value, born: now, expires: now.Add(ttl), used: used}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.sweep(now)
	c.entries[key] = a
	c.mu.Unlock()
	if renew != nil && c.renew {
		a.renew = renew
		half := ttl / 2
		c.later(half+time.Duration(rand.Int64N(int64(ttl/10)+1)), func() { c.renewal(key, a, 0) })
	}
}

// sweep drops expired entries as new ones arrive, so that the map stays as
// small as the set of live keys. c.mu is held.
func (c *Cache[V]) sweep(now time.Time) {
	if n := len(c.entries); n < 64 || n%64 != 0 {
		return
	}
	for k, a := range c.entries {
		if !now.Before(a.expires) {
			delete(c.entries, k)
		}
	}
}

// renewal renews a if it is still the answer for key and was used; failed
// is the number of failed renewals so far in this streak.
func (c *Cache[V]) renewal(key string, a *answer[V], failed int) {
	c.mu.Lock()
	current := c.entries[key] == a && !c.closed
	used := a.used
	c.mu.Unlock()
	if !current || !used {
		return // replaced, dropped, closed, or nobody used it: let it expire
	}
	v, _, _ := c.group.Do(key, func() (any, error) { return renewed(a.renew()), nil })
	result, isRenewal := v.(renewed)
	if !isRenewal {
		return // a lookup's run for key got there first and stored its answer
	}
	if c.Closed() {
		return // its program was removed from the config meanwhile
	}
	ok := bool(result)
	metrics.Renewal(c.kind, c.program, ok)
	if ok {
		if failed > 0 {
			logs.G(context.TODO()).WithFields(log.Fields{"kind": c.kind, "program": c.program, "key": key, "failures": failed}).
				Info("credential renewal works again")
		}
		return
	}
	if failed == 0 {
		logs.G(context.TODO()).WithFields(log.Fields{"kind": c.kind, "program": c.program, "key": key, "expires": a.expires.UTC().Format(time.RFC3339), "effect": "serving the current answer until it expires; retrying"}).
			Info("credential renewal failed")
	}
	if wait := renewalBackoff(a.expires.Sub(a.born), failed); c.clock().Add(wait).Before(a.expires) {
		c.later(wait, func() { c.renewal(key, a, failed+1) })
	}
}

// renewalBackoff is the wait before retry number failed+1 of a renewal of
// an answer that lives lifetime: from a fiftieth of the lifetime (at most
// MinFailureTTL) doubling, never more than an eighth of the lifetime.
func renewalBackoff(lifetime time.Duration, failed int) time.Duration {
	wait := min(MinFailureTTL, lifetime/50)
	for range failed {
		wait *= 2
	}
	return min(wait, lifetime/8)
}

// Reject drops the answer for key after a registry refused the credential
// it held, so that the next lookup runs the program again. It drops at most
// once per rejectBackoff per key, so that a plainly wrong credential cannot
// make every pull run the program. It reports whether it dropped.
func (c *Cache[V]) Reject(key string) bool {
	backoff := c.rejectBackoff
	now := c.clock()
	c.mu.Lock()
	defer c.mu.Unlock()
	if last, ok := c.rejects[key]; ok && now.Sub(last) < backoff {
		return false
	}
	if len(c.rejects) >= 1024 {
		for k, last := range c.rejects {
			if now.Sub(last) >= backoff {
				delete(c.rejects, k)
			}
		}
	}
	if _, ok := c.entries[key]; !ok {
		return false
	}
	delete(c.entries, key)
	c.rejects[key] = now
	return true
}
