package main

import "testing"

func TestField(t *testing.T) {
	line := `time="2026-11-27T00:00:00Z" level=debug msg="credential decision" host="127.0.0.1:5000" kind=basic namespace=k8s.io plugin=nodecred source="dockerconfig:/tmp/a b/auth.json"`
	for key, want := range map[string]string{
		"host":    "127.0.0.1:5000",
		"kind":    "basic",
		"source":  "dockerconfig:/tmp/a b/auth.json",
		"missing": "",
	} {
		if got := field(line, key); got != want {
			t.Errorf("field(%q) = %q, want %q", key, got, want)
		}
	}
}
