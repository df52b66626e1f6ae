// Command containerd is containerd with its usual builtins plus nodecred.
// Distributions that build their own containerd add the same one import.
package main

import (
	"context"
	"fmt"
	"os"

	_ "github.com/containerd/containerd/v2/cmd/containerd/builtins"
	_ "github.com/nodecred/nodecred"
)

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "containerd:", err)
		os.Exit(1)
	}
}
