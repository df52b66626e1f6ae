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

// Command nodecred answers, before a credential config is rolled out, which
// credential containerd will use for an image and whether the registry
// accepts it, and pulls through a running containerd with the node's
// credentials without sending a secret.
//
// Exit codes: 0 success; 1 the check or pull failed; 2 bad usage or
// configuration; 3 (explain and check in CRI's namespace) CRI pulls
// locally, so CRI pulls, the sandbox image's among them, get no node
// credentials.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/containerd/log"
	"github.com/urfave/cli/v3"

	"github.com/nodecred/nodecred/cmd/nodecred/commands"
	"github.com/nodecred/nodecred/cmd/nodecred/commands/credhelper"
	"github.com/nodecred/nodecred/cmd/nodecred/commands/migrate"
	"github.com/nodecred/nodecred/cmd/nodecred/commands/plan"
	"github.com/nodecred/nodecred/cmd/nodecred/commands/pull"
	versioncmd "github.com/nodecred/nodecred/cmd/nodecred/commands/version"
	"github.com/nodecred/nodecred/version"
)

func app() *cli.Command {
	return &cli.Command{
		Name:  "nodecred",
		Usage: "explain, check and pull with the node's registry credentials",
		Description: `Exit codes: 0 success; 1 the check or pull failed (the reason is printed);
2 bad usage or configuration; 3 explain or check in CRI's namespace (k8s.io): CRI pulls
locally (the setting is printed first), so CRI pulls get no node credentials;
a check that fails exits 1 even then.
No command prints a secret.`,
		Version:  version.Get(),
		Commands: []*cli.Command{plan.ExplainCommand(), plan.CheckCommand(), pull.Command(), migrate.Command(), versioncmd.Command(), credhelper.Command()},
	}
}

func main() {
	if filepath.Base(os.Args[0]) == credhelper.Program {
		os.Exit(credhelper.Main(os.Args[1:]))
	}
	// Sources log warnings (a missing file, a failing helper) to stderr.
	_ = log.SetLevel("warn")
	err := app().Run(context.Background(), os.Args)
	if err == nil {
		return
	}
	var helper credhelper.ExitError // its reason is on stdout, as the protocol has it
	if errors.As(err, &helper) {
		os.Exit(helper.Code)
	}
	fmt.Fprintln(os.Stderr, "nodecred:", err)
	var local commands.CRILocalError
	if errors.As(err, &local) {
		os.Exit(commands.ExitCRILocal)
	}
	var failed commands.FailedError
	if errors.As(err, &failed) {
		os.Exit(commands.ExitFailed)
	}
	os.Exit(commands.ExitUsage)
}
