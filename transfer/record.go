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
	"sync"

	"github.com/nodecred/nodecred/credentials"
)

// answer is who answered a request for a host's credentials.
type answer int

const (
	// answerNone: the caller had none and no node source had one.
	answerNone answer = iota
	// answerNode: a node source served.
	answerNode
	// answerCaller: the caller's own credentials were sent.
	answerCaller
	// answerCallerFailed: the caller's credential helper failed.
	answerCallerFailed
	// answerCancelled: the lookup ended with the transfer.
	answerCancelled
)

// record is what one transfer's registries were told about credentials,
// host by host, so that a failed transfer can say what node credentials
// did (explain) and drop the cached answers a registry refused.
type record struct {
	mu    sync.Mutex
	hosts []*hostRecord // in the order containerd first asked for them
}

// hostRecord is the last answer for one host, and how many times
// containerd asked again after it had been sent a credential: it asks
// again when the registry answers 401 to the one it sent.
type hostRecord struct {
	host    string
	answer  answer
	cred    credentials.Credential // the node credential sent (answerNode)
	report  credentials.Report     // what the node sources did; zero when they cannot say
	reasked int
}

// add records an answer for host; a nil record records nothing.
func (r *record) add(host string, a answer, cred credentials.Credential, report credentials.Report) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var h *hostRecord
	for _, x := range r.hosts {
		if x.host == host {
			h = x
			break
		}
	}
	if h == nil {
		h = &hostRecord{host: host}
		r.hosts = append(r.hosts, h)
	} else if h.sent() {
		h.reasked++
	}
	h.answer, h.cred, h.report = a, cred, report
}

// sent reports whether a credential was sent to the host.
func (h *hostRecord) sent() bool { return h.answer == answerNode || h.answer == answerCaller }
