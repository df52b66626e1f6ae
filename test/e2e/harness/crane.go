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
