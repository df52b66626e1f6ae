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
	"strings"
	"testing"
)

func fixed(user string) Source {
	return sourceFunc(func(context.Context, Request) (Credential, error) {
		return Credential{Username: user, Password: "pw"}, nil
	})
}

var (
	notFound = sourceFunc(func(context.Context, Request) (Credential, error) { return Credential{}, nil })
	failing  = sourceFunc(func(context.Context, Request) (Credential, error) {
		return Credential{}, errors.New("helper exited 1")
	})
)

func TestChainOrderAndFirstHit(t *testing.T) {
	tests := []struct {
		name       string
		chain      Chain
		wantUser   string
		wantSource string
	}{
		{"first hit wins", Chain{{Name: "a", Source: fixed("a")}, {Name: "b", Source: fixed("b")}}, "a", "a"},
		{"not found falls through", Chain{{Name: "a", Source: notFound}, {Name: "b", Source: fixed("b")}}, "b", "b"},
		{"failure falls through", Chain{{Name: "a", Source: failing}, {Name: "b", Source: fixed("b")}}, "b", "b"},
		{"nothing found", Chain{{Name: "a", Source: notFound}, {Name: "b", Source: failing}}, "", ""},
		{"empty chain", Chain{}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := tt.chain.Get(context.Background(), Request{Host: "r.io"})
			if err != nil {
				t.Fatal(err)
			}
			if c.Username != tt.wantUser || c.Source != tt.wantSource {
				t.Errorf("got user %q from %q, want %q from %q", c.Username, c.Source, tt.wantUser, tt.wantSource)
			}
		})
	}
}

func TestChainLogsFailingSource(t *testing.T) {
	ctx, logs := capturedLog(t)
	Chain{{Name: "broken-helper", Source: failing}}.Get(ctx, Request{Host: "r.io"})
	if !strings.Contains(logs.String(), "broken-helper") || !strings.Contains(logs.String(), "level=warning") {
		t.Errorf("want one warning naming the source; log:\n%s", logs)
	}
}

func TestChainStopsWhenContextDone(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := (Chain{{Name: "a", Source: notFound}}).Get(ctx, Request{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// sourceFunc adapts a function to a Source.
type sourceFunc func(ctx context.Context, req Request) (Credential, error)

func (f sourceFunc) Get(ctx context.Context, req Request) (Credential, error) { return f(ctx, req) }
