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

package dockerconfig

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nodecred/nodecred/credentials"
	"github.com/nodecred/nodecred/internal/testprog"
)

// TestDockerConfigHelperRemovedIsClosed: a credHelpers entry removed from
// the docker config closes that helper's client, renewals and all; Close
// closes the rest and runs no helper afterwards.
func TestDockerConfigHelperRemovedIsClosed(t *testing.T) {
	h := testprog.NewHelper(t, map[string]string{"helped.example.com": "u:p"})
	t.Setenv("PATH", filepath.Dir(h.Program))
	for _, kv := range h.Env {
		name, value, _ := strings.Cut(kv, "=")
		t.Setenv(name, value)
	}
	path := filepath.Join(t.TempDir(), "config.json")
	writeAtomic(t, path, `{"credHelpers": {"helped.example.com": "nodecredtest", "other.example.com": "nodecredtest2"}}`)
	src := New(path, 10*time.Second)
	get := func() string {
		c, _ := src.Get(context.Background(), credentials.Request{Host: "helped.example.com"})
		return c.Username
	}
	if u := get(); u != "u" {
		t.Fatalf("served %q", u)
	}
	client, _ := src.helpers.get("nodecredtest")
	// runs says whether client runs its helper for a server it has not
	// asked yet: a closed client runs none.
	probes := 0
	runs := func() bool {
		probes++
		before := countLines(t, h.Count)
		_, _ = client.Get(context.Background(), fmt.Sprintf("probe%d.example.com", probes))
		return countLines(t, h.Count) != before
	}
	writeAtomic(t, path, `{"credHelpers": {"other.example.com": "nodecredtest"}}`)
	if u := get(); u != "" {
		t.Fatalf("served %q after the entry was removed", u)
	}
	if !runs() {
		t.Fatal("a helper still named for another host was closed")
	}
	writeAtomic(t, path, `{"auths": {}}`)
	if u := get(); u != "" {
		t.Fatalf("served %q", u)
	}
	if runs() {
		t.Fatal("the helper no longer named was not closed")
	}
	writeAtomic(t, path, `{"credHelpers": {"helped.example.com": "nodecredtest"}}`)
	if u := get(); u != "u" {
		t.Fatalf("served %q once named again", u)
	}
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	before := countLines(t, h.Count)
	_, err := src.Get(context.Background(), credentials.Request{Host: "helped.example.com"})
	if n := countLines(t, h.Count); n != before {
		t.Fatalf("a closed source ran its helper (%d runs, was %d); err %v", n, before, err)
	}
	if _, err := os.Stat(h.Program); err != nil {
		t.Fatal(err)
	}
}
