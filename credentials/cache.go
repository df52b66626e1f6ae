package credentials

import (
	"sync"
	"time"
)

// expiring is a map whose entries expire. Its clock is a field so that
// tests can move time.
type expiring[V any] struct {
	clock   func() time.Time
	mu      sync.RWMutex
	entries map[string]expiringEntry[V]
}

type expiringEntry[V any] struct {
	value   V
	expires time.Time
}

func newExpiring[V any](clock func() time.Time) *expiring[V] {
	if clock == nil {
		clock = time.Now
	}
	return &expiring[V]{clock: clock, entries: map[string]expiringEntry[V]{}}
}

// Get returns the unexpired value for key.
func (e *expiring[V]) Get(key string) (V, bool) {
	e.mu.RLock()
	ent, ok := e.entries[key]
	e.mu.RUnlock()
	if !ok || !e.clock().Before(ent.expires) {
		var zero V
		return zero, false
	}
	return ent.value, true
}

// Set stores value for ttl; a ttl of zero or less stores nothing. Expired
// entries are swept as new ones arrive, so the map stays as small as the
// set of live keys.
func (e *expiring[V]) Set(key string, value V, ttl time.Duration) {
	if ttl <= 0 {
		return
	}
	now := e.clock()
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.entries) >= 64 && len(e.entries)%64 == 0 {
		for k, ent := range e.entries {
			if !now.Before(ent.expires) {
				delete(e.entries, k)
			}
		}
	}
	e.entries[key] = expiringEntry[V]{value: value, expires: now.Add(ttl)}
}
