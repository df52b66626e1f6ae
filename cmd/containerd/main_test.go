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

package main

import (
	"testing"

	"github.com/containerd/plugin"
	"github.com/containerd/plugin/registry"

	"github.com/nodecred/nodecred"
)

// The binary registers nodecred next to containerd's builtins.
func TestNodecredIsBuiltIn(t *testing.T) {
	var nc, cri bool
	for _, r := range registry.Graph(func(*plugin.Registration) bool { return false }) { // containerd/plugin v1.0.0 (containerd 2.1) takes no nil filter
		if r.Type == nodecred.CredentialsPlugin && r.ID == nodecred.PluginID {
			nc = true
		}
		if r.Type == "io.containerd.grpc.v1" && r.ID == "cri" {
			cri = true
		}
	}
	if !nc || !cri {
		t.Fatalf("registered: nodecred %v, cri %v; want both", nc, cri)
	}
}
