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

// Package version is `nodecred version`: nodecred's version, the
// containerd it was built against and the Go that built it.
package version

import (
	"context"
	"fmt"
	"runtime"

	"github.com/urfave/cli/v3"

	"github.com/nodecred/nodecred/cmd/nodecred/commands"
	ncversion "github.com/nodecred/nodecred/version"
)

// Command is `nodecred version`.
func Command() *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "print nodecred's version, the containerd it was built against and the Go that built it",
		Action: func(_ context.Context, cmd *cli.Command) error {
			if cmd.Args().Len() != 0 {
				return commands.UsageError{Err: fmt.Errorf("version takes no arguments")}
			}
			_, err := fmt.Fprint(cmd.Root().Writer, versionText())
			return err
		},
	}
}

// versionText is what `nodecred version` prints: one "name version" line
// each for nodecred, containerd and Go.
func versionText() string {
	return fmt.Sprintf("nodecred    %s\ncontainerd  %s\ngo          %s %s/%s\n",
		ncversion.Get(), ncversion.Containerd(), ncversion.Go(), runtime.GOOS, runtime.GOARCH)
}
