package execprog

import (
	"strings"
	"testing"
)

// TestStderrReasonKeepsTheEnd: klog and logrus programs log info lines
// before the error; the log line keeps the error.
func TestStderrReasonKeepsTheEnd(t *testing.T) {
	info := strings.Repeat("I1127 05:00:00.000000 1 main.go:10] starting provider, region us-east-1\n", 20)
	stderr := info + "E1127 05:00:01.000000 1 main.go:99] Error running credential provider plugin: operation error ECR: GetAuthorizationToken, https response error StatusCode: 403, AccessDeniedException\n"
	got := StderrReason([]byte(stderr))
	if !strings.HasSuffix(got, "GetAuthorizationToken, https response error StatusCode: 403, AccessDeniedException") ||
		!strings.HasPrefix(got, "I1127") || strings.Count(got, "starting provider") >= 20 || len(got) > maxStderrShown {
		t.Fatalf("stderrReason = %q; want the last whole lines that fit", got)
	}

	long := "error: " + strings.Repeat("word ", 200) + "the end"
	got = StderrReason([]byte(long))
	if !strings.HasPrefix(got, "… ") || !strings.HasSuffix(got, "the end") {
		t.Fatalf("stderrReason of one long line = %q; want its end from a word boundary", got)
	}
}
