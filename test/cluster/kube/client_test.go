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
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestSplitYAMLShippedManifest splits deploy/auth-sync.yaml, whose leading
// comment block is no document, into its two objects, each of a kind
// CreateManifest creates.
func TestSplitYAMLShippedManifest(t *testing.T) {
	_, here, _, _ := runtime.Caller(0)
	b, err := os.ReadFile(filepath.Join(filepath.Dir(here), "..", "..", "..", "deploy", "auth-sync.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	docs := SplitYAML(b)
	if len(docs) != 2 {
		t.Fatalf("%d documents, want 2 (ServiceAccount, DaemonSet)", len(docs))
	}
	for i, want := range []string{"kind: ServiceAccount", "kind: DaemonSet"} {
		if !strings.Contains(string(docs[i]), want) {
			t.Errorf("document %d has no %q", i, want)
		}
	}
}

func TestCollectionPath(t *testing.T) {
	for _, c := range []struct{ apiVersion, kind, ns, want string }{
		{"v1", "ServiceAccount", "kube-system", "/api/v1/namespaces/kube-system/serviceaccounts"},
		{"apps/v1", "DaemonSet", "kube-system", "/apis/apps/v1/namespaces/kube-system/daemonsets"},
		{"v1", "Secret", "", "/api/v1/namespaces/default/secrets"},
	} {
		got, err := collectionPath(c.apiVersion, c.kind, c.ns)
		if err != nil || got != c.want {
			t.Errorf("%s %s: %q, %v; want %q", c.apiVersion, c.kind, got, err, c.want)
		}
	}
	if _, err := collectionPath("rbac.authorization.k8s.io/v1", "ClusterRole", ""); err == nil {
		t.Error("a kind the suite does not create was accepted")
	}
}
