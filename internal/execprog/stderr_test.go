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
		t.Fatalf("StderrReason = %q; want the last whole lines that fit", got)
	}

	long := "error: " + strings.Repeat("word ", 200) + "the end"
	got = StderrReason([]byte(long))
	if !strings.HasPrefix(got, "… ") || !strings.HasSuffix(got, "the end") {
		t.Fatalf("StderrReason of one long line = %q; want its end from a word boundary", got)
	}
}
