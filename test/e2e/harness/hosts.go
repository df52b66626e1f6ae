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

package harness

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// WriteHostsToml writes dir/<host>/hosts.toml sending host's pulls to the
// given mirrors (in order) and then to server, all over plain HTTP.
func WriteHostsToml(dir, host, server string, mirrors ...string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "server = %q\n", "http://"+server)
	for _, m := range mirrors {
		fmt.Fprintf(&b, "\n[host.%q]\n  capabilities = [\"pull\", \"resolve\"]\n", "http://"+m)
	}
	d := filepath.Join(dir, host)
	if err := os.MkdirAll(d, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(d, "hosts.toml"), []byte(b.String()), 0o644)
}
