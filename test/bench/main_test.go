package main

import (
	"testing"
	"time"
)

func TestStats(t *testing.T) {
	s := stats([]time.Duration{5, 1, 4, 2, 3})
	if s.median != 3 || s.min != 1 || s.max != 5 {
		t.Fatalf("stats = %+v", s)
	}
}
