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

package kube

import (
	"slices"
	"strings"
	"testing"
)

// mountinfo is /proc/self/mountinfo as a node with a kubelet shows it.
const mountinfo = `22 1 0:21 / / rw,relatime shared:1 - overlay overlay rw
60 22 0:21 /tmp/nc1/kubelet /tmp/nc1/kubelet rw,relatime shared:1 - overlay overlay rw
61 60 0:50 / /tmp/nc1/kubelet/pods/u1/volumes/kubernetes.io~secret/registry-auth rw,relatime - tmpfs tmpfs rw
62 22 0:51 / /tmp/nc1/state/io.containerd.runtime.v2.task/k8s.io/abc/rootfs rw - overlay overlay rw
63 22 0:52 / /tmp/nc10/kubelet rw - overlay overlay rw
64 22 0:53 / /tmp/nc1/with\040space rw - tmpfs tmpfs rw
`

func TestMountsUnder(t *testing.T) {
	got := MountsUnder(strings.NewReader(mountinfo), "/tmp/nc1/")
	want := []string{
		"/tmp/nc1/kubelet/pods/u1/volumes/kubernetes.io~secret/registry-auth",
		"/tmp/nc1/state/io.containerd.runtime.v2.task/k8s.io/abc/rootfs",
		"/tmp/nc1/kubelet",
		"/tmp/nc1/with space",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
}
