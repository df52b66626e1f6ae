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

package sourceconfig

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/nodecred/nodecred/credentials/dockerconfig"
	"github.com/nodecred/nodecred/credentials/static"
	"github.com/nodecred/nodecred/internal/testprog"
)

func TestBuildErrorsNameFieldAndValue(t *testing.T) {
	tests := []struct {
		name string
		cfgs []Config
		want string
	}{
		{"unknown type", []Config{{Type: "vault"}}, `sources[0].type: unknown source type "vault"`},
		{"missing type", []Config{{Path: "/a"}}, `sources[0].type: required`},
		{"dockerconfig without path", []Config{{Type: "dockerconfig"}}, `sources[0].path: required`},
		{"relative path", []Config{{Type: "dockerconfig", Path: "/ok.json"}, {Type: "dockerconfig", Path: "auth.json"}}, `sources[1].path: "auth.json" is not an absolute path`},
		{"static without hosts", []Config{{Type: "static", Username: "u", PasswordFile: "/pw"}}, `sources[0].hosts: required`},
		{"static bad host", []Config{{Type: "static", Hosts: []string{"ok.io", "a..b"}, Username: "u", PasswordFile: "/pw"}}, `sources[0].hosts[1]: host pattern "a..b"`},
		{"static without username", []Config{{Type: "static", Hosts: []string{"r.io"}, PasswordFile: "/pw"}}, `sources[0].username: required`},
		{"static without password", []Config{{Type: "static", Hosts: []string{"r.io"}, Username: "u"}}, `sources[0].password_file: required`},
		{"static both passwords", []Config{{Type: "static", Hosts: []string{"r.io"}, Username: "u", PasswordFile: "/pw", Password: "inline-secret"}}, `sources[0].password_file: "/pw" is set together with password`},
		{"renew on a static source", []Config{{Type: "static", Hosts: []string{"r.io"}, Username: "u", Password: "p", Renew: new(bool)}}, `sources[0].renew: type "static" runs no program to renew`},
		{"env on a static source", []Config{{Type: "static", Hosts: []string{"r.io"}, Username: "u", Password: "p", Env: map[string]string{"A": "inline-secret"}}}, `sources[0].env: only type "helper" takes env`},
		{"env on a kubelet source", []Config{{Type: "kubelet", Config: "/c.yaml", BinDir: "/bin", Env: map[string]string{"A": "b"}}}, `sources[0].env: only type "helper" takes env`},
		{"env name with =", []Config{{Type: "helper", Helper: "/bin/sh", Env: map[string]string{"A=B": "inline-secret"}}}, `sources[0].env: "A=B" is not an environment variable name`},
		{"env value with NUL", []Config{{Type: "helper", Helper: "/bin/sh", Env: map[string]string{"AWS_SECRET_ACCESS_KEY": "inline-secret\x00"}}}, `sources[0].env["AWS_SECRET_ACCESS_KEY"]: value holds a NUL byte (value not shown)`},
		{"static relative password file", []Config{{Type: "static", Hosts: []string{"r.io"}, Username: "u", PasswordFile: "pw"}}, `sources[0].password_file: "pw" is not an absolute path`},
		{"hosts on a dockerconfig source", []Config{{Type: "dockerconfig", Path: "/a.json", Hosts: []string{"r.io"}}}, `sources[0].hosts: type "dockerconfig" does not take hosts (it takes path, renew, timeout)`},
		{"empty hosts on a dockerconfig source", []Config{{Type: "dockerconfig", Path: "/a.json", Hosts: []string{}}}, `sources[0].hosts: type "dockerconfig" does not take hosts`},
		{"hosts on a kubelet source", []Config{{Type: "kubelet", Config: "/c.yaml", BinDir: "/bin", Hosts: []string{"r.io"}}}, `sources[0].hosts: type "kubelet" does not take hosts (it takes config, bin_dir, renew, timeout)`},
		{"path on a static source", []Config{{Type: "static", Hosts: []string{"r.io"}, Username: "u", Password: "inline-secret", Path: "/a.json"}}, `sources[0].path: type "static" does not take path (it takes hosts, username, password_file, password)`},
		{"timeout on a static source", []Config{{Type: "static", Hosts: []string{"r.io"}, Username: "u", Password: "inline-secret", Timeout: "10s"}}, `sources[0].timeout: type "static" does not take timeout`},
		{"password on a dockerconfig source", []Config{{Type: "dockerconfig", Path: "/a.json", Password: "inline-secret"}}, `sources[0].password: type "dockerconfig" does not take password`},
		{"username on a helper source", []Config{{Type: "helper", Helper: "/bin/sh", Username: "u"}}, `sources[0].username: type "helper" does not take username`},
		{"config on a helper source", []Config{{Type: "helper", Helper: "/bin/sh", Config: "/c.yaml"}}, `sources[0].config: type "helper" does not take config`},
		{"bin_dir on a dockerconfig source", []Config{{Type: "dockerconfig", Path: "/a.json", BinDir: "/bin"}}, `sources[0].bin_dir: type "dockerconfig" does not take bin_dir`},
		{"empty env on a static source", []Config{{Type: "static", Hosts: []string{"r.io"}, Username: "u", Password: "p", Env: map[string]string{}}}, `sources[0].env: only type "helper" takes env`},
		{"timeout over the bound", []Config{{Type: "dockerconfig", Path: "/a.json", Timeout: "876000h"}}, `sources[0].timeout: "876000h" is more than 5m0s, the longest a helper or provider run may take`},
		{"timeout just over the bound", []Config{{Type: "dockerconfig", Path: "/a.json", Timeout: "5m1s"}}, `sources[0].timeout: "5m1s" is more than 5m0s`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Build(tt.cfgs)
			if err == nil {
				t.Fatalf("Build succeeded, want error %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "inline-secret") {
				t.Fatalf("error carries the password: %v", err)
			}
			if !errdefs.IsInvalidArgument(err) {
				t.Fatalf("error %q is not errdefs.ErrInvalidArgument", err)
			}
		})
	}
}

func TestBuildKeepsOrderAndNames(t *testing.T) {
	chain, err := Build([]Config{
		{Type: "static", Hosts: []string{"r.io"}, Username: "u", Password: "p"},
		{Type: "dockerconfig", Path: "/etc/containerd/auth.json"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(chain) != 2 || chain[0].Name != "static:r.io" || chain[1].Name != "dockerconfig:/etc/containerd/auth.json" {
		t.Fatalf("chain names = %v", []string{chain[0].Name, chain[1].Name})
	}
	// A Report names a source by its Type (see credentials.Chain.label).
	if chain[0].Type != TypeStatic || chain[1].Type != TypeDockerConfig {
		t.Fatalf("chain types = %v", []string{chain[0].Type, chain[1].Type})
	}
}

func TestBuildExecSources(t *testing.T) {
	program := testprog.NewHelper(t, nil).Program
	t.Setenv("PATH", filepath.Dir(program))
	chain, err := Build([]Config{
		{Type: "helper", Helper: "nodecredtest", Hosts: []string{"*.example.com"}, Timeout: "3s"},
		{Type: "helper", Helper: program},
	})
	if err != nil {
		t.Fatal(err)
	}
	if chain[0].Name != "helper:nodecredtest" { // kubelet sources: TestBuildKubeletSource
		t.Fatalf("name: %q", chain[0].Name)
	}
	tests := []struct {
		cfg  Config
		want string
	}{
		{Config{Type: "helper"}, `sources[0].helper: required`},
		{Config{Type: "helper", Helper: "absent"}, `sources[0].helper: helper "absent": docker-credential-absent not found in PATH`},
		{Config{Type: "helper", Helper: "nodecredtest", Timeout: "ten seconds"}, `sources[0].timeout: "ten seconds" is not a positive duration`},
		{Config{Type: "helper", Helper: "nodecredtest", Timeout: "-1s"}, `sources[0].timeout: "-1s"`},
		{Config{Type: "helper", Helper: "nodecredtest", Hosts: []string{"*.."}}, `sources[0].hosts[0]`},
		{Config{Type: "kubelet", BinDir: "/bin"}, `sources[0].config: required`},
		{Config{Type: "kubelet", Config: "/c.yaml"}, `sources[0].bin_dir: required`},
		{Config{Type: "kubelet", Config: "c.yaml", BinDir: "/bin"}, `sources[0].config: "c.yaml" is not an absolute path`},
	}
	for _, tt := range tests {
		_, err := Build([]Config{tt.cfg})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: err = %v, want %q", tt.cfg, err, tt.want)
		}
	}
}

// TestBuildRenewal: renewal is on unless renew = false. Build hands it to
// every source that runs programs as credentials.WithRenewal; each takes it
// as its own tests check (helper and dockerconfig TestNewTakesRenewal).
func TestBuildRenewal(t *testing.T) {
	on, off := true, false
	for _, tt := range []struct {
		name  string
		renew *bool
		want  bool
	}{{"unset", nil, true}, {"true", &on, true}, {"false", &off, false}} {
		if got := (Config{Renew: tt.renew}).renews(); got != tt.want {
			t.Errorf("renew %s: renews() = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestBuildChecksFilesAtStart: a path that must be a file is one, or is
// missing (it may appear later); anything else stops containerd.
func TestBuildChecksFilesAtStart(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.json")
	if err := os.WriteFile(big, make([]byte, dockerconfig.MaxFileSize+1), 0o600); err != nil {
		t.Fatal(err)
	}
	bigPassword := filepath.Join(dir, "big-password")
	if err := os.WriteFile(bigPassword, make([]byte, static.MaxPasswordFileSize+1), 0o600); err != nil {
		t.Fatal(err)
	}
	docker := func(path string) Config { return Config{Type: "dockerconfig", Path: path} }
	staticSource := func(path string) Config {
		return Config{Type: "static", Hosts: []string{"r.io"}, Username: "u", PasswordFile: path}
	}
	tests := []struct {
		cfg  Config
		want string
	}{
		{docker(filepath.Join(dir, "missing.json")), ""},
		{staticSource(filepath.Join(dir, "missing")), ""},
		{docker(dir), fmt.Sprintf(`sources[0].path: %q is a directory, not a regular file`, dir)},
		{docker(fifo), fmt.Sprintf(`sources[0].path: %q is a FIFO, not a regular file`, fifo)},
		{docker("/dev/zero"), `sources[0].path: "/dev/zero" is a character device, not a regular file`},
		{docker(big), fmt.Sprintf(`sources[0].path: %q is %d bytes, more than the limit of %d`, big, dockerconfig.MaxFileSize+1, dockerconfig.MaxFileSize)},
		{staticSource(dir), fmt.Sprintf(`sources[0].password_file: %q is a directory, not a regular file`, dir)},
		{staticSource(fifo), fmt.Sprintf(`sources[0].password_file: %q is a FIFO, not a regular file`, fifo)},
		{staticSource("/dev/zero"), `sources[0].password_file: "/dev/zero" is a character device, not a regular file`},
		{staticSource(bigPassword), fmt.Sprintf(`sources[0].password_file: %q is %d bytes, more than the limit of %d`, bigPassword, static.MaxPasswordFileSize+1, static.MaxPasswordFileSize)},
	}
	for _, tt := range tests {
		_, err := Build([]Config{tt.cfg})
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%+v: %v", tt.cfg, err)
		case tt.want != "" && (err == nil || err.Error() != tt.want):
			t.Errorf("%+v: err = %v\nwant %s", tt.cfg, err, tt.want)
		}
	}
}

// TestSetKeysCoversEveryField: every field of Config is a key that
// setKeys reports when set, by its TOML name, so no key can escape the
// check of which keys a type takes; and every key a type takes is one.
func TestSetKeysCoversEveryField(t *testing.T) {
	typ := reflect.TypeOf(Config{})
	all := map[string]bool{}
	for i := range typ.NumField() {
		f := typ.Field(i)
		key := f.Tag.Get("toml")
		all[key] = true
		if key == "type" {
			continue
		}
		var c Config
		v := reflect.ValueOf(&c).Elem().Field(i)
		switch v.Kind() {
		case reflect.String:
			v.SetString("x")
		case reflect.Slice:
			v.Set(reflect.MakeSlice(v.Type(), 0, 0))
		case reflect.Map:
			v.Set(reflect.MakeMap(v.Type()))
		case reflect.Pointer:
			v.Set(reflect.New(v.Type().Elem()))
		default:
			t.Fatalf("field %s: kind %s not handled", f.Name, v.Kind())
		}
		if got := c.setKeys(); len(got) != 1 || got[0] != key {
			t.Errorf("field %s set: setKeys() = %v, want [%s]", f.Name, got, key)
		}
	}
	for typ, keys := range sourceKeys {
		for _, key := range keys {
			if !all[key] {
				t.Errorf("type %q takes %q, which is no field", typ, key)
			}
		}
	}
}
