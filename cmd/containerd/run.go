//go:build !nodecred_cliv2

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
	"context"
	"os"

	"github.com/containerd/containerd/v2/cmd/containerd/command"
)

// run starts containerd's own command (urfave/cli v3, containerd 2.4 and later).
func run(ctx context.Context) error {
	app := command.App()
	app.Version = withNodecred(app.Version)
	return app.Run(ctx, os.Args)
}
