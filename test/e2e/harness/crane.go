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
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
)

// CraneModule is crane, go-containerregistry's registry client: a real
// docker credential helper client (docker's config library) built from the
// Go module proxy.
const CraneModule = "github.com/google/go-containerregistry/cmd/crane@v0.22.1"

// BuildCrane installs crane into repoRoot/bin/tools unless it is there, and
// returns its path.
func BuildCrane(ctx context.Context, repoRoot string) (string, error) {
	dir := filepath.Join(repoRoot, "bin", "tools")
	crane := filepath.Join(dir, "crane")
	if _, err := os.Stat(crane); err == nil {
		return crane, nil
	}
	cmd := exec.CommandContext(ctx, "go", "install", CraneModule)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOBIN="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go install %s: %w\n%s", CraneModule, err, out)
	}
	return crane, nil
}
