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

// Package metrics holds nodecred's Prometheus metrics, registered with
// docker/go-metrics as containerd's own are, so they appear on containerd's
// metrics endpoint ([metrics] address) under the "nodecred" namespace.
// Labels name sources, programs and files, never a credential.
package metrics

import (
	"time"

	gometrics "github.com/docker/go-metrics"
	"github.com/prometheus/client_golang/prometheus"
)

var (
	ns = gometrics.NewNamespace("nodecred", "", nil)

	lookups      = ns.NewLabeledCounter("lookups", "Credential lookups by source and result (hit, miss, error).", "source", "result")
	execDuration = ns.NewLabeledTimer("exec", "Duration of credential helper and provider runs, by kind, program and result (ok, failed).", "kind", "program", "result")
	cacheHits    = ns.NewLabeledCounter("cache_hits", "Lookups an exec-backed source answered from its cache.", "kind", "program")
	cacheMisses  = ns.NewLabeledCounter("cache_misses", "Lookups an exec-backed source had to run its program for.", "kind", "program")
	waits        = ns.NewLabeledCounter("lookup_waits", "Lookups of exec-backed sources that had to wait for a run of their program.", "kind", "program")
	renewals     = ns.NewLabeledCounter("renewals", "Renewals of exec-source answers ahead of expiry, by result (ok, failed).", "kind", "program", "result")
	// Lifetimes run from seconds to ECR's 12 hours. A histogram of our
	// own: go-metrics before v0.1.0 (containerd 2.1 to 2.3) has no
	// timer with buckets.
	served = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "nodecred",
		Name:      "served_lifetime_seconds",
		Help:      "Remaining lifetime of the cached exec-source answers served.",
		Buckets:   []float64{1, 5, 15, 60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600},
	}, []string{"kind", "program"})
	reloads      = ns.NewLabeledCounter("reloads", "Credential files read after a change.", "path")
	reloadErrors = ns.NewLabeledCounter("reload_errors", "Credential file changes that could not be read or parsed (the last good contents were kept).", "path")
)

func init() {
	ns.Add(served)
	gometrics.Register(ns)
}

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

// Waited counts a lookup that had to wait for a program run.
func Waited(kind, program string) { waits.WithValues(kind, program).Inc() }

// Renewal counts one renewal of a cached answer, ok or failed.
func Renewal(kind, program string, ok bool) {
	result := "ok"
	if !ok {
		result = "failed"
	}
	renewals.WithValues(kind, program, result).Inc()
}

// Served records the remaining lifetime of a cached answer served.
func Served(kind, program string, remaining time.Duration) {
	served.WithLabelValues(kind, program).Observe(remaining.Seconds())
}

// Reload counts a read of a changed credential file, ok or not.
func Reload(path string, ok bool) {
	if ok {
		reloads.WithValues(path).Inc()
	} else {
		reloadErrors.WithValues(path).Inc()
	}
}

// criPullMode is 1 for CRI's pull mode as nodecred found it at startup.
var criPullMode = ns.NewLabeledGauge("cri_pull_mode", "CRI's image pull mode found at startup (1 for the mode in effect): transfer (node credentials serve CRI pulls), local (they do not; setting names why) or unknown.", "", "mode", "setting")

// CRIPullMode records CRI's pull mode and the setting that decided it.
func CRIPullMode(mode, setting string) { criPullMode.WithValues(mode, setting).Set(1) }
