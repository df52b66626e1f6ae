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

	"github.com/nodecred/nodecred/internal/redact"
)

// maxStderrShown bounds the part of a program's stderr that is redacted into
// a log line, so that the line keeps its end.
const maxStderrShown = 400

// StderrReason returns the end of a program's stderr, redacted: its last
// lines, as many as fit in maxStderrShown bytes, or the end of a longer
// last line from a word boundary. klog and logrus programs
// (ecr-credential-provider, ecr-login) log info lines before the error.
func StderrReason(b []byte) string {
	s := strings.TrimRight(string(b), "\r\n\t ")
	if len(s) > maxStderrShown {
		s = s[len(s)-maxStderrShown:]
		if i := strings.IndexByte(s, '\n'); i >= 0 && i < len(s)-1 {
			s = s[i+1:]
		} else if i := strings.IndexByte(s, ' '); i >= 0 {
			s = "…" + s[i:] // a word cut in two could be part of a token
		}
	}
	return redact.String(s)
}
