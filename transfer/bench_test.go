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
	"errors"
	"testing"

	"github.com/containerd/containerd/v2/core/transfer/registry"
	"github.com/containerd/log"

	"github.com/nodecred/nodecred/credentials"
	"github.com/nodecred/nodecred/credentials/static"
	"github.com/nodecred/nodecred/internal/hostmatch"
)

// BenchmarkRehomeAndLookup is the work nodecred adds to one pull: reading
// the caller's registry back, building the re-homed registry, and one
// credential decision (caller first, then a static source).
func BenchmarkRehomeAndLookup(b *testing.B) {
	ctx := context.Background()
	hosts, _ := hostmatch.ParsePatterns([]string{"r.io"})
	node := credentials.Chain{{Name: "static", Source: static.New(hosts, "robot", "pw")}}
	caller := callerFunc(func(host string) (registry.Credentials, error) { return registry.Credentials{Host: host}, nil })
	b.ReportAllocs()
	for b.Loop() {
		r, err := registry.NewOCIRegistry(ctx, "r.io/app:1", registry.WithCredentials(caller), registry.WithHostDir("/etc/containerd/certs.d"))
		if err != nil {
			b.Fatal(err)
		}
		h := &credentialHelper{ctx: ctx, node: node, namespace: "k8s.io"}
		_, done, err := rehome(ctx, r, h)
		if err != nil {
			b.Fatal(err)
		}
		if c, err := h.GetCredentials(ctx, "r.io/app:1", "r.io"); err != nil || c.Username != "robot" {
			b.Fatalf("got %q, %v", c.Username, err)
		}
		done()
	}
}

// BenchmarkCredentialDecision is one credential decision on the success
// path, as a pull makes it for each host that asks: "unrecorded" asks the
// chain with Get and records nothing, as before failed pulls were
// explained; "recorded" is the path a pull takes now (GetReport, and the
// answer recorded for the transfer's record).
func BenchmarkCredentialDecision(b *testing.B) {
	ctx := context.Background()
	hosts, _ := hostmatch.ParsePatterns([]string{"r.io"})
	chain := credentials.Chain{{Name: "static:r.io", Type: "static", Source: static.New(hosts, "robot", "pw")}}
	run := func(b *testing.B, node credentials.Source, rec func() *record) {
		b.ReportAllocs()
		for b.Loop() {
			h := &credentialHelper{ctx: ctx, node: node, namespace: "k8s.io", record: rec()}
			if c, err := h.GetCredentials(ctx, "r.io/app:1", "r.io"); err != nil || c.Username != "robot" {
				b.Fatalf("got %q, %v", c.Username, err)
			}
		}
	}
	b.Run("unrecorded", func(b *testing.B) {
		run(b, sourceFunc(chain.Get), func() *record { return nil })
	})
	b.Run("recorded", func(b *testing.B) {
		run(b, chain, func() *record { return &record{} })
	})
}

// BenchmarkExplain is what a failed pull costs to explain: a refused host
// whose first source failed, the clauses built and the answer rejected.
func BenchmarkExplain(b *testing.B) {
	ctx := context.Background()
	hosts, _ := hostmatch.ParsePatterns([]string{"r.io"})
	chain := credentials.Chain{
		{Name: "dockerconfig:/etc/containerd/auth.json", Type: "dockerconfig", Source: sourceFunc(func(context.Context, credentials.Request) (credentials.Credential, error) {
			return credentials.Credential{}, errors.New("broken")
		})},
		{Name: "static:r.io", Type: "static", Source: static.New(hosts, "robot", "pw")},
	}
	pullErr := unexpectedStatus(401, "http://r.io/v2/app/manifests/1")
	// The broken source's warning is logged on every lookup here; a real
	// program's failure is logged once while it is cached.
	level := log.GetLevel()
	_ = log.SetLevel("error")
	b.Cleanup(func() { _ = log.SetLevel(level.String()) })
	b.ReportAllocs()
	for b.Loop() {
		rec := &record{}
		h := &credentialHelper{ctx: ctx, node: chain, namespace: "k8s.io", record: rec}
		_, _ = h.GetCredentials(ctx, "r.io/app:1", "r.io")
		if err := rec.explain(ctx, pullErr, ""); err == pullErr {
			b.Fatal("not explained")
		}
	}
}
