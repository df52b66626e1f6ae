package credentials

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestStderrReasonKeepsTheEnd: klog and logrus programs log info lines
// before the error; the log line keeps the error.
func TestStderrReasonKeepsTheEnd(t *testing.T) {
	info := strings.Repeat("I1127 05:00:00.000000 1 main.go:10] starting provider, region us-east-1\n", 20)
	stderr := info + "E1127 05:00:01.000000 1 main.go:99] Error running credential provider plugin: operation error ECR: GetAuthorizationToken, https response error StatusCode: 403, AccessDeniedException\n"
	got := stderrReason([]byte(stderr))
	if !strings.HasSuffix(got, "GetAuthorizationToken, https response error StatusCode: 403, AccessDeniedException") ||
		!strings.HasPrefix(got, "I1127") || strings.Count(got, "starting provider") >= 20 || len(got) > maxStderrShown {
		t.Fatalf("stderrReason = %q; want the last whole lines that fit", got)
	}

	long := "error: " + strings.Repeat("word ", 200) + "the end"
	got = stderrReason([]byte(long))
	if !strings.HasPrefix(got, "… ") || !strings.HasSuffix(got, "the end") {
		t.Fatalf("stderrReason of one long line = %q; want its end from a word boundary", got)
	}
}

// TestUnreportedOncePerFailure: a failure returned again from a cache is
// logged once; other errors each time; a join is logged while any part of
// it is new.
func TestUnreportedOncePerFailure(t *testing.T) {
	first := fmt.Errorf("failed to run provider %q: %w", "p", &programError{status: "exit status 1"})
	if !unreported(first) || unreported(first) {
		t.Fatal("a program failure must be reported once")
	}
	plain := errors.New("file unreadable")
	if firstTime, secondTime := unreported(plain), unreported(plain); !firstTime || !secondTime {
		t.Fatal("an error that is not a program failure must be reported each time")
	}
	second := &programError{status: "timed out after 1m0s"}
	if !unreported(errors.Join(first, second)) || unreported(errors.Join(first, second)) {
		t.Fatal("a join with a new failure must be reported once")
	}
}

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
