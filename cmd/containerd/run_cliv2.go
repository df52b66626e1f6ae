//go:build nodecred_cliv2

package main

import (
	"context"
	"os"

	"github.com/containerd/containerd/v2/cmd/containerd/command"
)

// run starts containerd's own command as containerd 2.1 to 2.3 build it
// (urfave/cli v2); `make compat` builds with -tags nodecred_cliv2 for them.
func run(context.Context) error {
	app := command.App()
	app.Version = withNodecred(app.Version)
	return app.Run(os.Args)
}
