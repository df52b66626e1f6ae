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

package e2e

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/nodecred/nodecred/test/e2e/harness"
)

// TestRotationWithoutRestart fixes a wrong password by renaming a new file
// over the old one, as a secret syncer does, while containerd runs; then
// breaks the file and checks the last good password still serves.
func TestRotationWithoutRestart(t *testing.T) {
	reg := startRegistry(t, "node", "app/web:1", "app/web:2", "app/web:3")
	hostsDir := hostsDirFor(t, reg)
	dir := t.TempDir()
	auth := filepath.Join(dir, "auth.json")
	replace := func(content string) {
		t.Helper()
		tmp := writeFile(t, dir, ".auth.json.tmp", content)
		if err := os.Rename(tmp, auth); err != nil {
			t.Fatal(err)
		}
	}
	replace(dockerConfig(map[string][2]string{reg.Host: {reg.user, newPassword(reg.user)}}))
	c := startContainerd(t, bins.Containerd, harness.ContainerdConfig{
		HostsDir: hostsDir,
		Nodecred: nodecredSection("", dockerconfigSource(auth)),
	})
	if err := criPull(c, reg.Host+"/app/web:1", nil); err == nil || !isAuthError(err) {
		t.Fatalf("pull with the wrong password: err = %v, want an authorization failure", err)
	}
	replace(dockerConfig(map[string][2]string{reg.Host: {reg.user, reg.password}}))
	if err := criPull(c, reg.Host+"/app/web:2", nil); err != nil {
		t.Fatalf("pull after rotating the file: %v", err)
	}
	replace(`{"auths": {"` + reg.Host + `": {"auth": "trunc`)
	if err := criPull(c, reg.Host+"/app/web:3", nil); err != nil {
		t.Fatalf("pull after a malformed edit (want the last good password): %v", err)
	}
}
