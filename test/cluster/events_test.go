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

package cluster

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/nodecred/nodecred/test/cluster/kube"
	"github.com/nodecred/nodecred/test/e2e/harness"
)

// eventNoteLimit is the longest message events.k8s.io/v1 accepts when an
// event is created (NoteLengthLimit in kubernetes
// pkg/apis/core/validation/events.go). The kubelet records core/v1 events,
// which that limit does not apply to; TestPullErrorInEvents measures what
// happens to a longer message.
const eventNoteLimit = 1024

// TestPullErrorInEvents: a pull that nodecred took part in fails, and the
// pod's events, where an operator reads it (kubectl describe pod), end with
// the clause saying what node credentials did (transfer/explain.go), whole,
// after the kubelet's and CRI's wrapping; no event holds a secret of the
// run, a username or the auth file's path. Cases: the pod's image on a
// host no node source has credentials for; on a host that refuses the
// node credential; the same with the longest reference the kubelet takes,
// which makes the message longer than events.k8s.io/v1's limit; and the
// sandbox image on the refusing host.
func TestPullErrorInEvents(t *testing.T) {
	skipIfUnable(t)
	served := startRegistry(t, "events-served-user")   // the node credential is right; holds the sandbox image
	unknown := startRegistry(t, "events-unknown-user") // no node source has credentials for it
	refused := startRegistry(t, "events-refused-user") // the node credential for it is wrong
	wrong := newPassword(refused.user)                 // a secret of the run, which the registry does not take
	authDir := t.TempDir()
	auth := writeFile(t, filepath.Join(authDir, "auth.json"), dockerConfig(map[string][2]string{
		served.Host:  {served.user, served.password},
		refused.Host: {refused.user, wrong},
	}))
	hosts := hostsDir(t, served, unknown, refused)
	n := startNode(t, progs.Containerd, harness.ContainerdConfig{
		HostsDir: hosts, SandboxImage: served.pause(), Nodecred: dockerconfigSection(auth),
	}, kube.KubeletConfig{})
	// The sandbox image is on the refusing host: no pod of this node gets
	// a sandbox.
	noSandbox := startNode(t, progs.Containerd, harness.ContainerdConfig{
		HostsDir: hosts, SandboxImage: refused.pause(), Nodecred: dockerconfigSection(auth),
	}, kube.KubeletConfig{})

	noCredentials := "node credentials: no node source has credentials for " + unknown.Host
	refusedClause := "node credentials: " + refused.Host + " refused the credential from dockerconfig sources[0] (401 Unauthorized)"
	long := longestRef(refused.Host)
	cases := []struct {
		pod, node, image string
		// reason and prefix begin the kubelet's event; clause must end it.
		reason, prefix, clause string
	}{
		{"events-unknown", n.Name, unknown.hello(), "Failed", fmt.Sprintf("Failed to pull image %q: ", unknown.hello()), noCredentials},
		{"events-refused", n.Name, refused.hello(), "Failed", fmt.Sprintf("Failed to pull image %q: ", refused.hello()), refusedClause},
		{"events-long", n.Name, long, "Failed", fmt.Sprintf("Failed to pull image %q: ", long), refusedClause},
		{"events-sandbox", noSandbox.Name, served.hello(), "FailedCreatePodSandBox", "Failed to create pod sandbox: ", refusedClause},
	}
	for _, c := range cases {
		pod, _ := helloPod(t, c.pod, c.node, c.image)
		createPod(t, pod)
	}

	ctx := context.Background()
	var all []string
	for _, c := range cases {
		got := waitEvent(t, c.pod, c.reason+": "+c.prefix, c.clause)
		msg := strings.TrimPrefix(got, c.reason+": ")
		switch {
		case !strings.HasPrefix(msg, c.prefix):
			t.Errorf("pod %s: event %q does not begin with %q", c.pod, got, c.prefix)
		case !strings.HasSuffix(msg, "; "+c.clause):
			t.Errorf("pod %s: event %q does not end with the clause %q", c.pod, got, c.clause)
		case strings.Count(msg, "node credentials:") != 1:
			t.Errorf("pod %s: event %q has the clause more than once", c.pod, got)
		}
		if c.pod == "events-long" {
			// The message is whole (it ends with the clause, checked
			// above), and longer than events.k8s.io/v1 takes: neither the
			// kubelet nor the API server shortened it.
			if len(msg) <= eventNoteLimit {
				t.Errorf("pod %s: message of %d bytes, want one longer than %d to measure the limit", c.pod, len(msg), eventNoteLimit)
			}
			t.Logf("pod %s: the kubelet's event message is %d bytes, whole", c.pod, len(msg))
		}
		events, err := cp.Client().PodEventList(ctx, "default", c.pod)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range events {
			all = append(all, e.Reason+": "+e.Message)
			if e.Message == msg {
				t.Logf("pod %s: %s", c.pod, describeLine(e))
			}
		}
	}

	// Events are readable by anyone who can read the pod.
	text := strings.Join(all, "\n")
	leaks := secrets.Leaks(text)
	if len(leaks) > 0 {
		t.Errorf("the pods' events carry %d secret form(s)", len(leaks))
	}
	for _, s := range []string{auth, authDir, served.user, unknown.user, refused.user} {
		if strings.Contains(text, s) {
			t.Errorf("the pods' events name %q", s)
		}
	}
	if t.Failed() {
		return
	}
	t.Logf("%d events of %d pods checked for %d secret forms, the auth file's path and the usernames", len(all), len(cases), secrets.Len())
}

// longestRef is a reference on host with the longest name the kubelet and
// containerd take (255 characters, the host included) and the longest tag
// (128 characters).
func longestRef(host string) string {
	name := host + "/app/"
	name += strings.Repeat("x", 255-len(name))
	return name + ":" + strings.Repeat("t", 128)
}

// describeLine is an event as a row of kubectl describe's Events table,
// without the Age column: type, reason, source, message.
func describeLine(e corev1.Event) string {
	return fmt.Sprintf("%s  %s  %s  %s", e.Type, e.Reason, e.Source.Component, e.Message)
}
