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
