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

package static

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/nodecred/nodecred/credentials"
	"github.com/nodecred/nodecred/internal/hostmatch"
)

func TestStaticSourceAnswersOnlyItsHosts(t *testing.T) {
	hosts, err := hostmatch.ParsePatterns([]string{"registry.example.com", "*.corp.example"})
	if err != nil {
		t.Fatal(err)
	}
	pw := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte("hunter2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	src := NewFile(hosts, "robot", pw)
	ctx := context.Background()
	tests := []struct {
		host string
		want bool
	}{
		{"registry.example.com", true},
		{"a.corp.example", true},
		{"registry.example.com.evil", false},
		{"mirror.example.com", false},
	}
	for _, tt := range tests {
		c, err := src.Get(ctx, credentials.Request{Host: tt.host, Ref: tt.host + "/app:1"})
		if err != nil {
			t.Fatal(err)
		}
		if got := !c.IsZero(); got != tt.want {
			t.Errorf("host %q: found = %v, want %v", tt.host, got, tt.want)
		}
		if tt.want && (c.Username != "robot" || c.Password.Reveal() != "hunter2") {
			t.Errorf("host %q: got %q and a password of %d bytes, want robot/hunter2", tt.host, c.Username, len(c.Password))
		}
	}
	// Rotation is picked up without a restart.
	if err := os.WriteFile(pw, []byte("rotated-longer"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, _ := src.Get(ctx, credentials.Request{Host: "registry.example.com", Ref: "registry.example.com/app:1"})
	if c.Password.Reveal() != "rotated-longer" {
		t.Errorf("password not reloaded after rotation")
	}
}

func TestStaticSourceInlinePassword(t *testing.T) {
	hosts, _ := hostmatch.ParsePatterns([]string{"registry.example.com"})
	c, err := New(hosts, "robot", "pw").Get(context.Background(), credentials.Request{Host: "registry.example.com"})
	if err != nil || c.Username != "robot" || c.Password.Reveal() != "pw" {
		t.Fatalf("got %q, %v", c.Username, err)
	}
}

func TestStaticSourceEmptyPasswordFileIsNotFound(t *testing.T) {
	hosts, _ := hostmatch.ParsePatterns([]string{"registry.example.com"})
	pw := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := NewFile(hosts, "robot", pw).Get(context.Background(), credentials.Request{Host: "registry.example.com"})
	if err != nil || !c.IsZero() {
		t.Fatalf("empty password file: got %q, %v; want not found", c.Username, err)
	}
}
