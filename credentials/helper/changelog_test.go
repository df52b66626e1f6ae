package helper

import "testing"

func TestChangeLog(t *testing.T) {
	var l changeLog
	for i, tt := range []struct {
		reason string
		want   bool
	}{{"a", true}, {"a", false}, {"b", true}, {"a", true}} {
		if got := l.changed(tt.reason); got != tt.want {
			t.Errorf("step %d: changed(%q) = %v, want %v", i, tt.reason, got, tt.want)
		}
	}
}
