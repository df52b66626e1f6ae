// Command credhelper is a docker credential helper for nodecred's tests,
// built on docker-credential-helpers' own server side. It reads what to do
// from a JSON file next to its executable (helpers run with a clean
// environment, so an environment variable would not reach it).
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/docker/docker-credential-helpers/credentials"
)

// Config is the sidecar file, <executable>.json.
type Config struct {
	// Creds maps a server URL to "user:secret".
	Creds map[string]string `json:"creds"`
	// Mode is "" (serve), "fail", "hang", "hang-child", "big" or "garbage".
	Mode string `json:"mode"`
	// CountFile gets one line per run.
	CountFile string `json:"count_file"`
	// ChildPIDFile receives the pid of the child "hang-child" starts.
	ChildPIDFile string `json:"child_pid_file"`
}

type helper struct{ cfg Config }

func (h helper) Get(serverURL string) (string, string, error) {
	switch h.cfg.Mode {
	case "fail":
		fmt.Fprintln(os.Stderr, "helper broke while reading token eyJhbGciOiJSUzI1NiJ9.c2VjcmV0LXRva2Vu")
		os.Exit(3)
	case "hang":
		time.Sleep(time.Hour)
	case "hang-child":
		child := exec.Command("sleep", "3600")
		if err := child.Start(); err == nil {
			_ = os.WriteFile(h.cfg.ChildPIDFile, []byte(strconv.Itoa(child.Process.Pid)), 0o600)
		}
		time.Sleep(time.Hour)
	case "big":
		big := strings.Repeat("x", 2<<20)
		fmt.Print(`{"Username":"u","Secret":"` + big + `"}`)
		os.Exit(0)
	case "garbage":
		fmt.Print("not json")
		os.Exit(0)
	}
	up, ok := h.cfg.Creds[serverURL]
	if !ok {
		return "", "", credentials.NewErrCredentialsNotFound()
	}
	user, secret, _ := strings.Cut(up, ":")
	return user, secret, nil
}

func (helper) Add(*credentials.Credentials) error { return fmt.Errorf("read-only") }
func (helper) Delete(string) error                { return fmt.Errorf("read-only") }
func (helper) List() (map[string]string, error)   { return map[string]string{}, nil }

func main() {
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var cfg Config
	if b, err := os.ReadFile(self + ".json"); err == nil {
		if err := json.Unmarshal(b, &cfg); err != nil {
			fmt.Fprintln(os.Stderr, "bad config:", err)
			os.Exit(1)
		}
	}
	if cfg.CountFile != "" {
		if f, err := os.OpenFile(cfg.CountFile, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600); err == nil {
			fmt.Fprintln(f, strings.Join(os.Args[1:], " "))
			f.Close()
		}
	}
	credentials.Serve(helper{cfg: cfg})
}
