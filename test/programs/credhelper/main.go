// Command credhelper is a docker credential helper for nodecred's tests,
// built on docker-credential-helpers' own server side. Like the real
// helpers (ecr-login, gcr, pass), it is configured through the environment
// it runs with:
//
//	CREDHELPER_CREDS       JSON object: server URL to "user:secret"
//	CREDHELPER_MODE        "" (serve) or one of the modes below
//	CREDHELPER_MODE_FILE   a file whose contents, when present, override the mode,
//	                       as a cloud endpoint that goes down changes what a helper does
//	CREDHELPER_REASON      the reason "fail" and "miss" give
//	CREDHELPER_COUNT_FILE  one line (the action) per run is appended here
//	CREDHELPER_PID_FILE    receives the pid of the child a "*child" mode starts
//	CREDHELPER_ENV_FILE    receives the helper's whole environment
//
// Modes, each after a real helper's behaviour:
//
//	fail         Get returns an error: the protocol prints it on stdout, exit 1 (gcr, secretservice)
//	miss         the reason on stderr, then "credentials not found in native keychain" (ecr-login, pass)
//	crash        a line on stderr, exit 3
//	hang         never answers
//	hang-child   starts a child in its process group, then never answers
//	setsid-child starts a child in a session of its own, then never answers
//	exit-child   answers and exits 0, leaving a child that holds stdout open
//	big          answers more than nodecred reads
//	garbage      answers something that is not JSON, exit 0
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/docker/docker-credential-helpers/credentials"
)

type helper struct {
	creds map[string]string
	mode  string
}

func (h helper) Get(serverURL string) (string, string, error) {
	switch h.mode {
	case "fail":
		return "", "", errors.New(os.Getenv("CREDHELPER_REASON"))
	case "miss":
		fmt.Fprintln(os.Stderr, os.Getenv("CREDHELPER_REASON"))
		return "", "", credentials.NewErrCredentialsNotFound()
	case "crash":
		fmt.Fprintln(os.Stderr, "helper broke while reading token eyJhbGciOiJSUzI1NiJ9.c2VjcmV0LXRva2Vu")
		os.Exit(3)
	case "hang":
		time.Sleep(time.Hour)
	case "hang-child":
		startChild(nil)
		time.Sleep(time.Hour)
	case "setsid-child":
		startChild(&syscall.SysProcAttr{Setsid: true})
		time.Sleep(time.Hour)
	case "exit-child":
		startChild(nil) // inherits stdout, and keeps it open after we exit
	case "big":
		fmt.Print(`{"Username":"u","Secret":"` + strings.Repeat("x", 2<<20) + `"}`)
		os.Exit(0)
	case "garbage":
		fmt.Print("not json")
		os.Exit(0)
	}
	up, ok := h.creds[serverURL]
	if !ok {
		return "", "", credentials.NewErrCredentialsNotFound()
	}
	user, secret, _ := strings.Cut(up, ":")
	return user, secret, nil
}

// startChild starts a long sleep that inherits stdout and stderr, and
// writes its pid to CREDHELPER_PID_FILE.
func startChild(attr *syscall.SysProcAttr) {
	child := exec.Command("sleep", "3600")
	child.Stdout, child.Stderr = os.Stdout, os.Stderr
	child.SysProcAttr = attr
	if err := child.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "cannot start child:", err)
		os.Exit(4)
	}
	_ = os.WriteFile(os.Getenv("CREDHELPER_PID_FILE"), []byte(strconv.Itoa(child.Process.Pid)), 0o600)
}

func (helper) Add(*credentials.Credentials) error { return fmt.Errorf("read-only") }
func (helper) Delete(string) error                { return fmt.Errorf("read-only") }
func (helper) List() (map[string]string, error)   { return map[string]string{}, nil }

func main() {
	h := helper{mode: os.Getenv("CREDHELPER_MODE")}
	if b, err := os.ReadFile(os.Getenv("CREDHELPER_MODE_FILE")); err == nil {
		h.mode = strings.TrimSpace(string(b))
	}
	if s := os.Getenv("CREDHELPER_CREDS"); s != "" {
		if err := json.Unmarshal([]byte(s), &h.creds); err != nil {
			fmt.Fprintln(os.Stderr, "CREDHELPER_CREDS is not a JSON object")
			os.Exit(1)
		}
	}
	if f := os.Getenv("CREDHELPER_COUNT_FILE"); f != "" {
		if out, err := os.OpenFile(f, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600); err == nil {
			fmt.Fprintln(out, strings.Join(os.Args[1:], " "))
			out.Close()
		}
	}
	if f := os.Getenv("CREDHELPER_ENV_FILE"); f != "" {
		_ = os.WriteFile(f, []byte(strings.Join(os.Environ(), "\n")+"\n"), 0o600)
	}
	credentials.Serve(h)
}
