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

package main

import (
	"bytes"
	"context"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"github.com/nodecred/nodecred/cmd/nodecred/commands"
	"github.com/nodecred/nodecred/version"
)

func TestVersionCommand(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Version}}", version.ContainerdModule).Output()
	if err != nil {
		t.Fatal(err)
	}
	containerd := strings.TrimSpace(string(out))
	a := app()
	var buf bytes.Buffer
	a.Writer = &buf
	if err := a.Run(context.Background(), []string{"nodecred", "version"}); err != nil {
		t.Fatal(err)
	}
	want := "nodecred    " + version.Get() + "\n" +
		"containerd  " + containerd + "\n" +
		"go          " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH + "\n"
	if buf.String() != want {
		t.Errorf("nodecred version printed\n%s\nwant\n%s", buf.String(), want)
	}

	buf.Reset()
	if err := a.Run(context.Background(), []string{"nodecred", "--version"}); err != nil {
		t.Fatal(err)
	}
	if got := buf.String(); !strings.Contains(got, version.Get()) {
		t.Errorf("nodecred --version printed %q, want nodecred's version %q", got, version.Get())
	}

	err = app().Run(context.Background(), []string{"nodecred", "version", "extra"})
	if _, ok := err.(commands.UsageError); !ok {
		t.Errorf("version with an argument: %v, want a usage error", err)
	}
}
