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
