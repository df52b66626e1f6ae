//go:build !nodecred_cliv2

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
