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

package harness

import (
	"encoding/base64"
	"strings"
	"testing"
)

func TestLeaksFindsEveryForm(t *testing.T) {
	forms := SecretForms("robot", "pw-1234")
	tests := []struct {
		log  string
		want bool
	}{
		{"msg=pulled", false},
		{"password=pw-1234", true},
		{"Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte("robot:pw-1234")), true},
		{"auth=" + base64.RawURLEncoding.EncodeToString([]byte("pw-1234")), true},
		{"user=robot", false},
	}
	for _, tt := range tests {
		if got := len(Leaks(tt.log, forms)) > 0; got != tt.want {
			t.Errorf("Leaks(%q) found = %v, want %v", tt.log, got, tt.want)
		}
	}
}

func TestHostsTomlAndConfigRender(t *testing.T) {
	dir := t.TempDir()
	if err := WriteHostsToml(dir, "up:5000", "up:5000", "mirror:6000"); err != nil {
		t.Fatal(err)
	}
	cfg := ContainerdConfig{HostsDir: dir, SandboxImage: "up:5000/pause:1"}.Render("/x")
	for _, want := range []string{`config_path = "` + dir + `"`, `sandbox = "up:5000/pause:1"`, `level = "debug"`, `address = "/x/c.sock"`} {
		if !strings.Contains(cfg, want) {
			t.Errorf("config lacks %s:\n%s", want, cfg)
		}
	}
}

func TestSecretsRemembersEachPassword(t *testing.T) {
	var s Secrets
	a, b := s.NewPassword("alice"), s.NewPassword("bob")
	if a == b || !strings.HasPrefix(a, "pw-") {
		t.Fatalf("passwords %q and %q", a, b)
	}
	header := "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte("bob:"+b))
	if got := s.Leaks("log: " + header); len(got) == 0 {
		t.Errorf("Leaks(bob's basic header) found nothing")
	}
	if got := s.Leaks("log: " + a); len(got) != 1 || got[0] != a {
		t.Errorf("Leaks(alice's password) = %q, want it", got)
	}
	if got := s.Leaks("nothing secret"); len(got) != 0 {
		t.Errorf("Leaks(clean text) = %q", got)
	}
	if s.Len() != 2*len(SecretForms("alice", a)) {
		t.Errorf("Len = %d", s.Len())
	}
}
