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

// Command containerd is containerd with its usual builtins plus nodecred.
// Distributions that build their own containerd add the same one import.
package main

import (
	"context"
	"fmt"
	"os"

	_ "github.com/containerd/containerd/v2/cmd/containerd/builtins"
	_ "github.com/nodecred/nodecred"

	"github.com/nodecred/nodecred/version"
)

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "containerd:", err)
		os.Exit(1)
	}
}

// withNodecred appends nodecred's version to containerd's, as
// `containerd --version` prints it:
//
//	containerd github.com/containerd/containerd/v2 2.4.2+unknown nodecred/0.1.0
//
// containerd's own version stays the third field, where scripts read it.
// Only the command's version string changes: what containerd reports over
// its API (the CRI runtime version, `ctr version`) is containerd's own.
func withNodecred(containerdVersion string) string {
	return containerdVersion + " nodecred/" + version.Get()
}
