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

package metrics

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	gometrics "github.com/docker/go-metrics"
)

func TestMetricsAreExposed(t *testing.T) {
	Lookup("static:r.io", "hit")
	Exec("helper", "/usr/bin/docker-credential-x", false, 20*time.Millisecond)
	Cache("provider", "ecr-credential-provider", true)
	Reload("/etc/containerd/auth.json", false)
	Waited("provider", "ecr-credential-provider")
	Renewal("provider", "ecr-credential-provider", false)
	Served("provider", "ecr-credential-provider", 2*time.Hour)
	CRIPullMode("local", "discard_unpacked_layers = true")

	rec := httptest.NewRecorder()
	gometrics.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{
		`nodecred_lookups_total{result="hit",source="static:r.io"} 1`,
		`nodecred_exec_seconds_count{kind="helper",program="/usr/bin/docker-credential-x",result="failed"} 1`,
		`nodecred_cache_hits_total{kind="provider",program="ecr-credential-provider"} 1`,
		`nodecred_reload_errors_total{path="/etc/containerd/auth.json"} 1`,
		`nodecred_lookup_waits_total{kind="provider",program="ecr-credential-provider"} 1`,
		`nodecred_renewals_total{kind="provider",program="ecr-credential-provider",result="failed"} 1`,
		`nodecred_served_lifetime_seconds_bucket{kind="provider",program="ecr-credential-provider",le="10800"} 1`,
		`nodecred_served_lifetime_seconds_bucket{kind="provider",program="ecr-credential-provider",le="3600"} 0`,
		`nodecred_cri_pull_mode{mode="local",setting="discard_unpacked_layers = true"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}
