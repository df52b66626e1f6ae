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

package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// realProgram is a cloud credential program built, unmodified, from the Go
// module proxy with checksum verification on.
type realProgram struct {
	// Name is the executable's file name under bin/tools/real.
	Name string
	// Module and Version are what is fetched from the proxy.
	Module, Version string
	// Package is the main package: a full import path for go install, or a
	// directory inside the module ("./cmd/x") for a source build.
	Package string
	// SourceBuild downloads the module and builds inside a copy of it, for
	// modules whose go.mod has replace directives (go install mod@v refuses
	// those).
	SourceBuild bool
}

// The programs the suite runs. Versions are pinned; the binary is rebuilt
// only when its version stamp differs.
var (
	ecrLogin = realProgram{
		Name: "docker-credential-ecr-login", Module: "github.com/awslabs/amazon-ecr-credential-helper/ecr-login", Version: "v0.12.0",
		Package: "github.com/awslabs/amazon-ecr-credential-helper/ecr-login/cli/docker-credential-ecr-login",
	}
	ecrProvider = realProgram{
		Name: "ecr-credential-provider", Module: "k8s.io/cloud-provider-aws", Version: "v1.37.1",
		Package: "./cmd/ecr-credential-provider", SourceBuild: true,
	}
	gcrHelper = realProgram{
		Name: "docker-credential-gcr", Module: "github.com/GoogleCloudPlatform/docker-credential-gcr/v2", Version: "v2.2.1",
		Package: "github.com/GoogleCloudPlatform/docker-credential-gcr/v2",
	}
	passHelper = realProgram{
		Name: "docker-credential-pass", Module: "github.com/docker/docker-credential-helpers", Version: "v0.9.13",
		Package: "github.com/docker/docker-credential-helpers/pass/cmd",
	}
	acrEnvHelper = realProgram{
		Name: "docker-credential-acr-env", Module: "github.com/chrismellard/docker-credential-acr-env", Version: "v0.0.0-20230304212654-82a0ddb27589",
		Package: "github.com/chrismellard/docker-credential-acr-env",
	}
	acrProvider = realProgram{
		Name: "acr-credential-provider", Module: "sigs.k8s.io/cloud-provider-azure", Version: "v1.32.0",
		Package: "./cmd/acr-credential-provider", SourceBuild: true,
	}
	realPrograms = []*realProgram{&ecrLogin, &ecrProvider, &gcrHelper, &passHelper, &acrEnvHelper, &acrProvider}
)

// builtProgram is the outcome of building one realProgram.
type builtProgram struct {
	Path   string
	Cached bool          // the binary of this version was already there
	Took   time.Duration // the build's wall time (zero when cached)
	Err    error         // why it could not be built
}

func (p realProgram) ref() string { return p.Module + "@" + p.Version }

// buildReal builds p into dir unless dir already holds the binary of p's
// version (dir/NAME plus a stamp dir/NAME.version naming module@version).
func buildReal(ctx context.Context, p realProgram, dir string) builtProgram {
	out := filepath.Join(dir, p.Name)
	stamp := out + ".version"
	if b, err := os.ReadFile(stamp); err == nil && strings.TrimSpace(string(b)) == p.ref() {
		if fi, err := os.Stat(out); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return builtProgram{Path: out, Cached: true}
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return builtProgram{Err: err}
	}
	work, err := os.MkdirTemp(dir, ".build-"+p.Name+"-")
	if err != nil {
		return builtProgram{Err: err}
	}
	defer os.RemoveAll(work)
	start := time.Now()
	tmpBin := filepath.Join(work, "bin", p.Name)
	if p.SourceBuild {
		err = sourceBuild(ctx, p, work, tmpBin)
	} else {
		// go install names the binary after the package path (gcr's
		// ".../v2" gives docker-credential-gcr; docker-credential-helpers'
		// pass/cmd gives "cmd", which its release names
		// docker-credential-pass, as p.Name does): take the one it wrote.
		_, err = goCmd(ctx, work, []string{"GOBIN=" + filepath.Dir(tmpBin)}, "install", p.Package+"@"+p.Version)
		if err == nil {
			err = renameOnly(filepath.Dir(tmpBin), tmpBin)
		}
	}
	if err != nil {
		return builtProgram{Err: err}
	}
	if err := os.Rename(tmpBin, out); err != nil {
		return builtProgram{Err: err}
	}
	if err := os.WriteFile(stamp, []byte(p.ref()+"\n"), 0o644); err != nil {
		return builtProgram{Err: err}
	}
	return builtProgram{Path: out, Took: time.Since(start)}
}

// renameOnly renames the one file in dir to to.
func renameOnly(dir, to string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	if len(entries) != 1 {
		return fmt.Errorf("go install wrote %d files in %s, want 1", len(entries), dir)
	}
	return os.Rename(filepath.Join(dir, entries[0].Name()), to)
}

// sourceBuild downloads p's module, copies it to a writable directory (the
// module cache is read-only) and builds p.Package there against the
// module's own go.mod and go.sum.
func sourceBuild(ctx context.Context, p realProgram, work, out string) error {
	js, err := goCmd(ctx, work, nil, "mod", "download", "-json", p.ref())
	var dl struct{ Dir, Error string }
	if jerr := json.Unmarshal(js, &dl); jerr == nil && dl.Error != "" {
		return fmt.Errorf("go mod download %s: %s", p.ref(), dl.Error)
	}
	if err != nil {
		return err
	}
	if dl.Dir == "" {
		return fmt.Errorf("go mod download %s gave no directory", p.ref())
	}
	src := filepath.Join(work, "src")
	if err := os.CopyFS(src, os.DirFS(dl.Dir)); err != nil {
		return fmt.Errorf("copy %s: %w", dl.Dir, err)
	}
	_, err = goCmd(ctx, src, nil, "build", "-o", out, p.Package)
	return err
}

// goCmd runs the go command in dir. Checksum verification stays on: the
// child gets GONOSUMDB, GOPRIVATE and GONOSUMCHECK cleared, and goCmd
// refuses to run if GOSUMDB is off (from the environment or go env -w).
func goCmd(ctx context.Context, dir string, env []string, args ...string) ([]byte, error) {
	full := append(append(os.Environ(), "CGO_ENABLED=0", "GOWORK=off", "GOFLAGS=-buildvcs=false",
		"GONOSUMDB=", "GOPRIVATE=", "GONOSUMCHECK="), env...)
	check := exec.CommandContext(ctx, "go", "env", "GOSUMDB")
	check.Dir, check.Env = dir, full
	sumdb, err := check.Output()
	if err != nil {
		return nil, fmt.Errorf("go env GOSUMDB: %w", err)
	}
	if s := strings.TrimSpace(string(sumdb)); s == "" || s == "off" {
		return nil, fmt.Errorf("refusing to build: checksum verification is off (GOSUMDB=%q)", s)
	}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = full
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, lastLines(stderr.String(), 15))
	}
	return stdout.Bytes(), nil
}

// embeddedModule returns the module path and version go version -m reports
// for bin's main module, and the version of module mod among its
// dependencies ("" when absent).
func embeddedModule(ctx context.Context, bin, mod string) (mainPath, mainVersion, depVersion string, err error) {
	out, err := goCmd(ctx, filepath.Dir(bin), nil, "version", "-m", bin)
	if err != nil {
		return "", "", "", err
	}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) >= 3 && f[0] == "mod":
			mainPath, mainVersion = f[1], f[2]
		case len(f) >= 3 && f[0] == "dep" && f[1] == mod:
			depVersion = f[2]
		}
	}
	return mainPath, mainVersion, depVersion, nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
