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

package kubelet

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nodecred/nodecred/credentials"
	"github.com/nodecred/nodecred/internal/fakeclock"
)

// reloadSetup writes a config of the test provider under names and opens
// a kubelet source on it; each provider counts its runs in counts/NAME.
func reloadSetup(t *testing.T, names ...string) (src *Source, config, counts string, render func(users map[string]string) string) {
	t.Helper()
	binDir, config := kubeletSetup(t, names...)
	counts = t.TempDir()
	render = func(users map[string]string) string {
		var b strings.Builder
		b.WriteString("apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n")
		for _, n := range names {
			if users[n] == "" {
				continue
			}
			fmt.Fprintf(&b, "- name: %s\n  matchImages: [\"%s.io\"]\n  defaultCacheDuration: 10m\n  apiVersion: %s\n  env:\n  - {name: PROVIDER_USER, value: %s}\n  - {name: PROVIDER_PASSWORD, value: p}\n  - {name: PROVIDER_COUNT_FILE, value: %s}\n",
				n, n, v1Provider, users[n], filepath.Join(counts, n))
		}
		return b.String()
	}
	all := map[string]string{}
	for _, n := range names {
		all[n] = "u-" + n
	}
	writeConfig(t, config, render(all))
	src, err := Open(config, binDir, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	return src, config, counts, render
}

func getUser(src *Source, host string) string {
	c, _ := src.Get(context.Background(), credentials.Request{Host: host, Ref: host + "/app:1"})
	return c.Username
}

// TestTouchStormAndEditsKeepUnchangedProviders: 50 touches with the same
// contents and 200 edits of another provider run the unchanged provider
// once, for the first lookup, and keep the very same provider.
func TestTouchStormAndEditsKeepUnchangedProviders(t *testing.T) {
	src, config, counts, render := reloadSetup(t, "a", "b")
	if u := getUser(src, "a.io"); u != "u-a" {
		t.Fatalf("a.io served %q", u)
	}
	first := src.Providers(context.Background())
	kept, _ := src.file.Load(context.Background())
	same := render(map[string]string{"a": "u-a", "b": "u-b"})
	for i := range 50 {
		writeConfig(t, config, same)
		if u := getUser(src, "a.io"); u != "u-a" {
			t.Fatalf("touch %d: a.io served %q", i, u)
		}
	}
	for i := range 200 {
		writeConfig(t, config, render(map[string]string{"a": "u-a", "b": fmt.Sprintf("u-b%d", i)}))
		if u := getUser(src, "a.io"); u != "u-a" {
			t.Fatalf("edit %d: a.io served %q", i, u)
		}
	}
	if n := countLines(t, filepath.Join(counts, "a")); n != 1 {
		t.Fatalf("the unchanged provider ran %d times through 50 touches and 200 edits, want 1", n)
	}
	now, _ := src.file.Load(context.Background())
	if now[0] != kept[0] || now[1] == kept[1] {
		t.Fatal("the unchanged provider was replaced, or the edited one was not")
	}
	if !kept[1].cache.Closed() {
		t.Fatal("the edited provider's old instance was not closed")
	}
	if u := getUser(src, "b.io"); u != "u-b199" {
		t.Fatalf("b.io served %q after the edits, want the last edit's u-b199", u)
	}
	if len(first) != 2 {
		t.Fatalf("providers %+v", first)
	}
}

// TestRemovedProviderNeverRunsAgain: a provider removed from the config is
// closed: its answer is dropped, its renewal does not run, and lookups of
// its hosts do not run it.
func TestRemovedProviderNeverRunsAgain(t *testing.T) {
	src, config, counts, render := reloadSetup(t, "a", "b")
	clock := fakeclock.New()
	ps, _ := src.file.Load(context.Background())
	ps[1].cache.SetClock(clock.Now, clock.AfterFunc)
	if u := getUser(src, "b.io"); u != "u-b" {
		t.Fatalf("b.io served %q", u)
	}
	if clock.Timers() != 1 {
		t.Fatalf("%d renewals scheduled, want 1", clock.Timers())
	}
	writeConfig(t, config, render(map[string]string{"a": "u-a"}))
	if u := getUser(src, "b.io"); u != "" {
		t.Fatalf("the removed provider still serves b.io: %q", u)
	}
	clock.Advance(time.Hour) // past the renewal and the answer's life
	if n := countLines(t, filepath.Join(counts, "b")); n != 1 {
		t.Fatalf("the removed provider ran %d times, want 1: none after its removal", n)
	}
	if !ps[1].cache.Closed() || ps[0].cache.Closed() {
		t.Fatal("want the removed provider closed and the other kept")
	}
	// Put back, it is a new provider, and runs afresh.
	writeConfig(t, config, render(map[string]string{"a": "u-a", "b": "u-b"}))
	if u := getUser(src, "b.io"); u != "u-b" {
		t.Fatalf("b.io served %q once back", u)
	}
}

// TestKubeletSourceClose: a closed source serves nothing and its providers
// run no more.
func TestKubeletSourceClose(t *testing.T) {
	src, _, counts, _ := reloadSetup(t, "a")
	if u := getUser(src, "a.io"); u != "u-a" {
		t.Fatalf("a.io served %q", u)
	}
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	if u := getUser(src, "a.io"); u != "" {
		t.Fatalf("a closed source served %q", u)
	}
	ps, _ := src.file.Load(context.Background())
	if !ps[0].cache.Closed() {
		t.Fatal("the provider was not closed")
	}
	if n := countLines(t, filepath.Join(counts, "a")); n != 1 {
		t.Fatalf("ran %d times, want 1", n)
	}
}

// TestRemovedProviderDoesNotRenewWithoutLookup: a provider removed from the
// config while no lookup re-reads it is not renewed: the renewal re-reads
// the config first.
func TestRemovedProviderDoesNotRenewWithoutLookup(t *testing.T) {
	src, config, counts, render := reloadSetup(t, "a", "b")
	clock := fakeclock.New()
	ps, _ := src.file.Load(context.Background())
	ps[1].cache.SetClock(clock.Now, clock.AfterFunc)
	if u := getUser(src, "b.io"); u != "u-b" {
		t.Fatalf("b.io served %q", u)
	}
	writeConfig(t, config, render(map[string]string{"a": "u-a"}))
	clock.Advance(6 * time.Minute) // past the renewal at half of 10m
	if n := countLines(t, filepath.Join(counts, "b")); n != 1 {
		t.Fatalf("the removed provider ran %d times, want 1: its renewal ran", n)
	}
	if !ps[1].cache.Closed() {
		t.Fatal("the renewal did not re-read the config and close the removed provider")
	}
	// Unchanged, a renewal runs as before.
	ps[0].cache.SetClock(clock.Now, clock.AfterFunc)
	if u := getUser(src, "a.io"); u != "u-a" {
		t.Fatalf("a.io served %q", u)
	}
	clock.Advance(6 * time.Minute)
	if n := countLines(t, filepath.Join(counts, "a")); n != 2 {
		t.Fatalf("the kept provider ran %d times, want 2: its first run and one renewal", n)
	}
}

// TestDeleteRevokesEverySource: the kubelet config revokes too, as a docker
// config and a password file do.
func TestDeleteRevokesEverySource(t *testing.T) {
	ctx := context.Background()
	cfg := filepath.Join(t.TempDir(), "cp.yaml")
	writeConfig(t, cfg, providerConfig(`"r.example.com"`, "1m", map[string]string{"PROVIDER_USER": "u", "PROVIDER_PASSWORD": "p"}))
	kubelet := newSource(cfg, t.TempDir(), time.Second)
	if _, ok := kubelet.file.Load(ctx); !ok {
		t.Fatal("kubelet config not loaded")
	}
	if err := os.Remove(cfg); err != nil {
		t.Fatal(err)
	}
	if ps, ok := kubelet.file.Load(ctx); ok || len(ps) != 0 {
		t.Fatalf("kubelet config deleted: %d providers still configured", len(ps))
	}
}
