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
//	CREDHELPER_FD_SOCKET   for "pass-stdout": the unix socket to send stdout and stderr to
//	CREDHELPER_HOLD_FDS    when set, the program is not a helper but the outside process
//	                       that receives them: it listens on this socket path, takes
//	                       the descriptors of one message, writes "held" to
//	                       CREDHELPER_HOLD_FDS.held, and keeps them for an hour
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
//	pass-stdout  sends its stdout and stderr over CREDHELPER_FD_SOCKET (SCM_RIGHTS) to a
//	             process it did not start, then answers and exits 0
//	big          answers more than nodecred reads
//	garbage      answers something that is not JSON, exit 0
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
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
	case "pass-stdout":
		if err := passFDs(os.Getenv("CREDHELPER_FD_SOCKET")); err != nil {
			return "", "", err
		}
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

// passFDs sends stdout and stderr to the process listening on socket.
func passFDs(socket string) error {
	c, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: socket, Net: "unix"})
	if err != nil {
		return err
	}
	defer c.Close()
	_, _, err = c.WriteMsgUnix([]byte("x"), syscall.UnixRights(1, 2), nil)
	return err
}

// holdFDs is the outside process: it receives one message's descriptors
// on socket and keeps them open.
func holdFDs(socket string) {
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: socket, Net: "unix"})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	c, err := l.AcceptUnix()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	oob := make([]byte, syscall.CmsgSpace(2*4))
	_, oobn, _, _, err := c.ReadMsgUnix(make([]byte, 1), oob)
	if err != nil || oobn == 0 {
		fmt.Fprintln(os.Stderr, "no descriptors received", err)
		os.Exit(1)
	}
	_ = os.WriteFile(socket+".held", []byte("held"), 0o600)
	time.Sleep(time.Hour)
}

func main() {
	if socket := os.Getenv("CREDHELPER_HOLD_FDS"); socket != "" {
		holdFDs(socket)
		return
	}
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
