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

package transfer

import (
	"context"
	"strings"
)

// clausePrefix begins every clause a failed transfer's error gets.
const clausePrefix = "node credentials: "

// explained is a failed transfer's error with clauses appended that say
// what node credentials did. It unwraps to the transfer's error, so that
// errdefs classes, errors.Is and errors.As, and the gRPC status containerd
// makes of it, are what they were; only the text grows.
type explained struct {
	err     error
	clauses []string
}

func (e *explained) Error() string {
	return e.err.Error() + "; " + strings.Join(e.clauses, "; ")
}

func (e *explained) Unwrap() error { return e.err }

// explain returns err, the error of a failed transfer, with one clause for
// each host containerd asked credentials for, saying what node credentials
// did for it, and drops the cached answers the registries refused.
// notLent, when set, is why node credentials were not lent at all; it is
// said only when a registry refused credentials, where it is the answer.
//
// A pull's error reaches the pod's events through CRI, and anyone who can
// read the pod reads it. A clause holds only the host, the namespace, the
// registry's HTTP status, sources by type and place in the config, and
// programs by name with how their run ended (credentials.Report); never a
// credential, a file's path or contents, or what a program printed.
func (r *record) explain(ctx context.Context, err error, notLent string) error {
	f := r.refusals(err)
	r.reject(ctx, f)
	var clauses []string
	if notLent != "" && refused(err) {
		clauses = append(clauses, clausePrefix+notLent)
	}
	r.mu.Lock()
	for _, h := range r.hosts {
		if c := h.clause(f); c != "" {
			clauses = append(clauses, clausePrefix+c)
		}
	}
	r.mu.Unlock()
	if len(clauses) == 0 {
		return err
	}
	return &explained{err: err, clauses: clauses}
}

// clause says what node credentials did for h, given what the registries
// refused.
func (h *hostRecord) clause(f refusal) string {
	var s string
	switch h.answer {
	case answerNone:
		s = "no node source has credentials for " + h.host
	case answerNode:
		from := h.report.Served()
		if from == "" {
			from = "a node source"
		}
		switch {
		case f.hosts[h] && f.sure:
			s = h.host + " refused the credential from " + from + " (" + f.statusOf(h) + ")"
		case f.hosts[h]:
			s = h.host + " was sent the credential from " + from + "; a registry refused credentials (" + f.status + ")"
		default:
			s = h.host + " was sent the credential from " + from
		}
	case answerCaller:
		if f.hosts[h] && f.sure {
			return h.host + " refused the caller's credentials (" + f.statusOf(h) + "); node credentials were not used"
		}
		return "the caller's credentials were used for " + h.host + ", not node credentials"
	case answerCallerFailed:
		return "the caller's credentials for " + h.host + " could not be read; node credentials were not used"
	default: // the lookup ended with the transfer
		return ""
	}
	if failed := h.report.Failures(); len(failed) > 0 {
		s += " (" + strings.Join(failed, ", ") + "; reasons in containerd's log)"
	}
	return s
}
