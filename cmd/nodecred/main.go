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

	"github.com/nodecred/nodecred/cripull"
	"github.com/nodecred/nodecred/version"
)

const (
	exitFailed   = 1
	exitUsage    = 2
	exitCRILocal = 3
)

// usageError marks errors in arguments or configuration (exit 2).
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

// criLocalError marks an explain or check in CRI's namespace where CRI
// pulls without the transfer service (exit 3): what was printed holds for
// transfer API clients, not for CRI.
type criLocalError struct{ v *cripull.Verdict }

func (e criLocalError) Error() string {
	return fmt.Sprintf("CRI pulls locally (%s): CRI pulls get no node credentials", e.v.Setting())
}

// failedError marks a check or pull that ran and failed (exit 1).
type failedError struct{ error }

func (e failedError) Unwrap() error { return e.error }

var planFlags = []cli.Flag{
	&cli.StringFlag{Name: "config", Aliases: []string{"c"}, Value: "/etc/containerd/config.toml", Usage: "containerd's config file: the nodecred section, and CRI's registry config_path"},
	&cli.StringFlag{Name: "hosts-dir", Usage: "registry hosts directory (default: CRI's config_path from --config)"},
	&cli.StringFlag{Name: "namespace", Aliases: []string{"n"}, Value: "k8s.io", Usage: "containerd namespace the pull runs in"},
	&cli.BoolFlag{Name: "json", Usage: "print JSON"},
}

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
		Commands: []*cli.Command{explainCommand(), checkCommand(), pullCommand(), migrateCommand(), versionCommand(), credentialHelperCommand()},
	}
}

func main() {
	if filepath.Base(os.Args[0]) == helperProgram {
		os.Exit(credentialHelperMain(os.Args[1:]))
	}
	// Sources log warnings (a missing file, a failing helper) to stderr.
	_ = log.SetLevel("warn")
	err := app().Run(context.Background(), os.Args)
	if err == nil {
		return
	}
	var helper helperExit // its reason is on stdout, as the protocol has it
	if errors.As(err, &helper) {
		os.Exit(helper.code)
	}
	fmt.Fprintln(os.Stderr, "nodecred:", err)
	var local criLocalError
	if errors.As(err, &local) {
		os.Exit(exitCRILocal)
	}
	var failed failedError
	if errors.As(err, &failed) {
		os.Exit(exitFailed)
	}
	os.Exit(exitUsage)
}

func refArg(cmd *cli.Command) (string, error) {
	if cmd.Args().Len() != 1 {
		return "", usageError{fmt.Errorf("%s takes exactly one image reference, got %d arguments", cmd.Name, cmd.Args().Len())}
	}
	return cmd.Args().First(), nil
}

func planOptionsFrom(cmd *cli.Command) planOptions {
	return planOptions{configPath: cmd.String("config"), hostsDir: cmd.String("hosts-dir"), namespace: cmd.String("namespace")}
}
