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

// Command credprovider is a kubelet credential provider plugin for
// nodecred's tests. It speaks credentialprovider.kubelet.k8s.io/v1 with the
// kubelet's published types and takes its behaviour from the environment,
// which a CredentialProviderConfig sets per provider:
//
//	PROVIDER_USER, PROVIDER_PASSWORD  the credential it returns
//	PROVIDER_PASSWORD_FILE            when set, the password is read from this file instead,
//	                                  as a cloud's answer changes from one run to the next
//	PROVIDER_AUTH_KEY                 the auth key; default: the image's registry host
//	PROVIDER_CACHE_KEY_TYPE           Image, Registry (default) or Global
//	PROVIDER_CACHE_DURATION           e.g. "10m"; unset: no cacheDuration
//	PROVIDER_COUNT_FILE               one line (the image) per run is appended here
//	PROVIDER_SLEEP                    sleep this long before answering
//	PROVIDER_ENV_FILE                 receives the provider's whole environment
//	PROVIDER_MODE                     "", "fail", "hang", "freeze", "big", "garbage" or "wrong-kind"
//	PROVIDER_FREEZE_CGROUP            for "freeze": a freezer cgroup directory (cgroup v1
//	                                  freezer or v2) the provider moves itself into and
//	                                  freezes, as a program stuck on a hung mount cannot
//	                                  be killed until the mount comes back
//	PROVIDER_MODE_FILE                a file whose contents, when present, override PROVIDER_MODE
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	v1 "k8s.io/kubelet/pkg/apis/credentialprovider/v1"
)

func main() {
	in, err := io.ReadAll(os.Stdin)
	if err != nil {
		fail(err)
	}
	var req v1.CredentialProviderRequest
	if err := json.Unmarshal(in, &req); err != nil {
		fail(err)
	}
	if req.APIVersion != "credentialprovider.kubelet.k8s.io/v1" || req.Kind != "CredentialProviderRequest" {
		fail(fmt.Errorf("unexpected request %s %s", req.APIVersion, req.Kind))
	}
	if f := os.Getenv("PROVIDER_COUNT_FILE"); f != "" {
		out, err := os.OpenFile(f, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
		if err != nil {
			fail(err)
		}
		fmt.Fprintln(out, req.Image)
		out.Close()
	}
	if f := os.Getenv("PROVIDER_ENV_FILE"); f != "" {
		_ = os.WriteFile(f, []byte(strings.Join(os.Environ(), "\n")+"\n"), 0o600)
	}
	// The mode is read first, as a program sends its request to its cloud
	// first; PROVIDER_SLEEP is then how long the cloud takes to answer.
	mode := os.Getenv("PROVIDER_MODE")
	if b, err := os.ReadFile(os.Getenv("PROVIDER_MODE_FILE")); err == nil {
		mode = strings.TrimSpace(string(b))
	}
	if d, err := time.ParseDuration(os.Getenv("PROVIDER_SLEEP")); err == nil {
		time.Sleep(d)
	}
	switch mode {
	case "fail":
		fmt.Fprintln(os.Stderr, "provider failed")
		os.Exit(2)
	case "hang":
		time.Sleep(time.Hour)
	case "freeze":
		if err := freeze(os.Getenv("PROVIDER_FREEZE_CGROUP")); err != nil {
			fail(err)
		}
		time.Sleep(time.Hour)
	case "big":
		fmt.Print(strings.Repeat(" ", 2<<20))
		return
	case "garbage":
		fmt.Print(`{"apiVersion": "credentialprovider.kubelet.k8s.io/v1", "auth": {"x": {"password": ` + os.Getenv("PROVIDER_PASSWORD"))
		return
	}
	getenv := os.Getenv
	if f := os.Getenv("PROVIDER_PASSWORD_FILE"); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			fail(err)
		}
		getenv = func(name string) string {
			if name == "PROVIDER_PASSWORD" {
				return strings.TrimSpace(string(b))
			}
			return os.Getenv(name)
		}
	}
	if err := json.NewEncoder(os.Stdout).Encode(respond(req, getenv)); err != nil {
		fail(err)
	}
}

// respond builds the response for req from the PROVIDER_* settings.
func respond(req v1.CredentialProviderRequest, getenv func(string) string) v1.CredentialProviderResponse {
	key := getenv("PROVIDER_AUTH_KEY")
	if key == "" {
		key, _, _ = strings.Cut(req.Image, "/")
	}
	resp := v1.CredentialProviderResponse{
		TypeMeta:     metav1.TypeMeta{APIVersion: "credentialprovider.kubelet.k8s.io/v1", Kind: "CredentialProviderResponse"},
		CacheKeyType: v1.RegistryPluginCacheKeyType,
		Auth: map[string]v1.AuthConfig{
			key: {Username: getenv("PROVIDER_USER"), Password: getenv("PROVIDER_PASSWORD")},
		},
	}
	if getenv("PROVIDER_MODE") == "wrong-kind" {
		resp.Kind = "Something"
	}
	if t := getenv("PROVIDER_CACHE_KEY_TYPE"); t != "" {
		resp.CacheKeyType = v1.PluginCacheKeyType(t)
	}
	if d, err := time.ParseDuration(getenv("PROVIDER_CACHE_DURATION")); err == nil {
		resp.CacheDuration = &metav1.Duration{Duration: d}
	}
	return resp
}

// freeze moves this process into the cgroup dir and freezes the cgroup:
// cgroup v1's freezer.state, else v2's cgroup.freeze.
func freeze(dir string) error {
	if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(os.Getpid())), 0); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(dir, "freezer.state")); err == nil {
		return os.WriteFile(filepath.Join(dir, "freezer.state"), []byte("FROZEN"), 0)
	}
	return os.WriteFile(filepath.Join(dir, "cgroup.freeze"), []byte("1"), 0)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}
