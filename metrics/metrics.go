// Package metrics holds nodecred's Prometheus metrics, registered with
// docker/go-metrics as containerd's own are, so they appear on containerd's
// metrics endpoint ([metrics] address) under the "nodecred" namespace.
// Labels name sources, programs and files, never a credential.
package metrics

import (
	"time"

	gometrics "github.com/docker/go-metrics"
)

var (
	ns = gometrics.NewNamespace("nodecred", "", nil)

	lookups      = ns.NewLabeledCounter("lookups", "Credential lookups by source and result (hit, miss, error).", "source", "result")
	execDuration = ns.NewLabeledTimer("exec", "Duration of credential helper and provider runs, by kind, program and result (ok, failed).", "kind", "program", "result")
	cacheHits    = ns.NewLabeledCounter("cache_hits", "Lookups an exec-backed source answered from its cache.", "kind", "program")
	cacheMisses  = ns.NewLabeledCounter("cache_misses", "Lookups an exec-backed source had to run its program for.", "kind", "program")
	reloads      = ns.NewLabeledCounter("reloads", "Credential files read after a change.", "path")
	reloadErrors = ns.NewLabeledCounter("reload_errors", "Credential file changes that could not be read or parsed (the last good contents were kept).", "path")
)

func init() { gometrics.Register(ns) }

// Lookup counts one answer of a source: result is "hit", "miss" or "error".
func Lookup(source, result string) { lookups.WithValues(source, result).Inc() }

// Exec records one run of a helper or provider program.
func Exec(kind, program string, ok bool, d time.Duration) {
	result := "ok"
	if !ok {
		result = "failed"
	}
	execDuration.WithValues(kind, program, result).Update(d)
}

// Cache counts a cache hit or miss of an exec-backed source.
func Cache(kind, program string, hit bool) {
	if hit {
		cacheHits.WithValues(kind, program).Inc()
	} else {
		cacheMisses.WithValues(kind, program).Inc()
	}
}

// Reload counts a read of a changed credential file, ok or not.
func Reload(path string, ok bool) {
	if ok {
		reloads.WithValues(path).Inc()
	} else {
		reloadErrors.WithValues(path).Inc()
	}
}
