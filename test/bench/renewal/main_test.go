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

package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestScrapeSumsAMetricsSamples(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/metrics" {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte(`# HELP nodecred_lookup_waits_total Lookups...
nodecred_lookup_waits_total{kind="provider",program="a"} 3
nodecred_lookup_waits_total{kind="helper",program="b"} 2
nodecred_lookup_waits_totally_other 100
`))
	}))
	defer srv.Close()
	n, err := scrape(strings.TrimPrefix(srv.URL, "http://"), "nodecred_lookup_waits_total")
	if err != nil || n != 5 {
		t.Fatalf("scrape = %d, %v; want 5", n, err)
	}
}
