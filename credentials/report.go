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

package credentials

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/nodecred/nodecred/internal/redact"
)

// Reporter is a Source that can also say what its sources did for one
// lookup. Chain is one; the transfer package asks it so that a failed
// pull's error can say what node credentials did.
type Reporter interface {
	GetReport(ctx context.Context, req Request) (Credential, Report, error)
}

// Report says what a chain's sources did for one lookup, in words that
// anyone who can read the pull's error may read: through CRI that error
// becomes an event of the pod, which the pod's tenants read. So it names a
// source only by its type and its place in the config ("helper
// sources[1]"), a program only by its name and how its run ended ("exit
// status 1", "timed out after 1m0s"); never a credential, a file's path or
// contents, or anything a program printed. Those stay in containerd's log.
type Report struct {
	chain  Chain
	served int // 1 + the index of the source that served; 0: none did
	failed []failure
}

type failure struct {
	index int
	err   error
}

// Served names the source that served, such as "dockerconfig
// sources[0]", or "" when none did.
func (r Report) Served() string {
	if r.served == 0 || r.served > len(r.chain) {
		return ""
	}
	return r.chain.label(r.served - 1)
}

// Failures says, for each source that failed, in order, which one and how:
// "helper docker-credential-ecr-login in helper sources[1] failed: timed out
// after 1m0s", "dockerconfig sources[0] failed".
func (r Report) Failures() []string {
	var out []string
	for _, f := range r.failed {
		if f.index >= len(r.chain) {
			continue
		}
		label := r.chain.label(f.index)
		pes := programErrors(f.err)
		if len(pes) == 0 {
			out = append(out, label+" failed")
			continue
		}
		for _, pe := range pes {
			out = append(out, fmt.Sprintf("%s %s in %s failed: %s", pe.Kind, pe.Program, label, publicStatus(pe.Status)))
		}
	}
	return out
}

// label names source i by its type and its place in the config:
// sourceconfig.Build sets each source's Type and keeps the config's order.
// A source without a Type (a chain built by hand) is named by its Name.
func (c Chain) label(i int) string {
	typ := c[i].Type
	if typ == "" {
		typ = c[i].Name
	}
	return fmt.Sprintf("%s sources[%d]", typ, i)
}

// programErrors returns the failed program runs in err, in order.
func programErrors(err error) []*ProgramError {
	var out []*ProgramError
	var walk func(error)
	walk = func(err error) {
		switch e := err.(type) {
		case nil:
		case *ProgramError:
			if e.Program != "" {
				out = append(out, e)
			}
		case interface{ Unwrap() []error }:
			for _, inner := range e.Unwrap() {
				walk(inner)
			}
		default:
			walk(errors.Unwrap(err))
		}
	}
	walk(err)
	return out
}

// maxStatusShown bounds how a program's run ended, as a pull's error
// shows it.
const maxStatusShown = 100

// publicStatus is how a run ended, as a pull's error may show it: its
// first line, redacted, at most maxStatusShown bytes. The status is
// nodecred's own words ("exit status 1", "timed out after 1m0s",
// "malformed response", a field a provider's response got wrong), never
// what the program printed; this keeps it so if that ever changes.
func publicStatus(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	s = baseNames(redact.String(s))
	if len(s) > maxStatusShown {
		// Cut at a rune boundary: the error travels as a protobuf string.
		s = strings.ToValidUTF8(s[:maxStatusShown], "")
		if i := strings.LastIndexByte(s, ' '); i > 0 {
			s = s[:i] // a word cut in two could be part of a token
		}
		s += "…"
	}
	return s
}

// absPathInStatus is an absolute path in a status: a word that begins with "/".
var absPathInStatus = regexp.MustCompile(`(^|[\s"'(=])(/[^\s"'():;,]+)`)

// baseNames replaces each absolute path in s by its file name, so that a
// status that quotes one (a provider that cannot be started: "fork/exec
// /opt/cp/ecr-credential-provider: no such file or directory") shows the
// program's name, never a path on the node. The log keeps the whole error.
func baseNames(s string) string {
	return absPathInStatus.ReplaceAllStringFunc(s, func(m string) string {
		i := strings.IndexByte(m, '/')
		return m[:i] + filepath.Base(m[i:])
	})
}
