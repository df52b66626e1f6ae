package credentials

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestBuildErrorsNameFieldAndValue(t *testing.T) {
	tests := []struct {
		name string
		cfgs []SourceConfig
		want string
	}{
		{"unknown type", []SourceConfig{{Type: "vault"}}, `sources[0].type: unknown source type "vault"`},
		{"missing type", []SourceConfig{{Path: "/a"}}, `sources[0].type: required`},
		{"dockerconfig without path", []SourceConfig{{Type: "dockerconfig"}}, `sources[0].path: required`},
		{"relative path", []SourceConfig{{Type: "dockerconfig", Path: "/ok.json"}, {Type: "dockerconfig", Path: "auth.json"}}, `sources[1].path: "auth.json" is not an absolute path`},
		{"static without hosts", []SourceConfig{{Type: "static", Username: "u", PasswordFile: "/pw"}}, `sources[0].hosts: required`},
		{"static bad host", []SourceConfig{{Type: "static", Hosts: []string{"ok.io", "a..b"}, Username: "u", PasswordFile: "/pw"}}, `sources[0].hosts[1]: host pattern "a..b"`},
		{"static without username", []SourceConfig{{Type: "static", Hosts: []string{"r.io"}, PasswordFile: "/pw"}}, `sources[0].username: required`},
		{"static without password", []SourceConfig{{Type: "static", Hosts: []string{"r.io"}, Username: "u"}}, `sources[0].password_file: required`},
		{"static both passwords", []SourceConfig{{Type: "static", Hosts: []string{"r.io"}, Username: "u", PasswordFile: "/pw", Password: "inline-secret"}}, `sources[0].password_file: "/pw" is set together with password`},
		{"renew on a static source", []SourceConfig{{Type: "static", Hosts: []string{"r.io"}, Username: "u", Password: "p", Renew: new(bool)}}, `sources[0].renew: type "static" runs no program to renew`},
		{"env on a static source", []SourceConfig{{Type: "static", Hosts: []string{"r.io"}, Username: "u", Password: "p", Env: map[string]string{"A": "inline-secret"}}}, `sources[0].env: only type "helper" takes env`},
		{"env on a kubelet source", []SourceConfig{{Type: "kubelet", Config: "/c.yaml", BinDir: "/bin", Env: map[string]string{"A": "b"}}}, `sources[0].env: only type "helper" takes env`},
		{"env name with =", []SourceConfig{{Type: "helper", Helper: "/bin/sh", Env: map[string]string{"A=B": "inline-secret"}}}, `sources[0].env: "A=B" is not an environment variable name`},
		{"env value with NUL", []SourceConfig{{Type: "helper", Helper: "/bin/sh", Env: map[string]string{"AWS_SECRET_ACCESS_KEY": "inline-secret\x00"}}}, `sources[0].env["AWS_SECRET_ACCESS_KEY"]: value holds a NUL byte (value not shown)`},
		{"static relative password file", []SourceConfig{{Type: "static", Hosts: []string{"r.io"}, Username: "u", PasswordFile: "pw"}}, `sources[0].password_file: "pw" is not an absolute path`},
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
		})
	}
}

func TestBuildKeepsOrderAndNames(t *testing.T) {
	chain, err := Build([]SourceConfig{
		{Type: "static", Hosts: []string{"r.io"}, Username: "u", Password: "p"},
		{Type: "dockerconfig", Path: "/etc/containerd/auth.json"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(chain) != 2 || chain[0].Name != "static:r.io" || chain[1].Name != "dockerconfig:/etc/containerd/auth.json" {
		t.Fatalf("chain names = %v", []string{chain[0].Name, chain[1].Name})
	}
}

func TestBuildExecSources(t *testing.T) {
	program := newTestHelper(t, nil).program
	t.Setenv("PATH", filepath.Dir(program))
	chain, err := Build([]SourceConfig{
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
		cfg  SourceConfig
		want string
	}{
		{SourceConfig{Type: "helper"}, `sources[0].helper: required`},
		{SourceConfig{Type: "helper", Helper: "absent"}, `sources[0].helper: helper "absent": docker-credential-absent not found in PATH`},
		{SourceConfig{Type: "helper", Helper: "nodecredtest", Timeout: "ten seconds"}, `sources[0].timeout: "ten seconds" is not a positive duration`},
		{SourceConfig{Type: "helper", Helper: "nodecredtest", Timeout: "-1s"}, `sources[0].timeout: "-1s"`},
		{SourceConfig{Type: "helper", Helper: "nodecredtest", Hosts: []string{"*.."}}, `sources[0].hosts[0]`},
		{SourceConfig{Type: "kubelet", BinDir: "/bin"}, `sources[0].config: required`},
		{SourceConfig{Type: "kubelet", Config: "/c.yaml"}, `sources[0].bin_dir: required`},
		{SourceConfig{Type: "kubelet", Config: "c.yaml", BinDir: "/bin"}, `sources[0].config: "c.yaml" is not an absolute path`},
	}
	for _, tt := range tests {
		_, err := Build([]SourceConfig{tt.cfg})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: err = %v, want %q", tt.cfg, err, tt.want)
		}
	}
}

func TestBuildRenewal(t *testing.T) {
	program := newTestHelper(t, nil).program
	off := false
	chain, err := Build([]SourceConfig{
		{Type: "helper", Helper: program},
		{Type: "helper", Helper: program, Renew: &off},
		{Type: "dockerconfig", Path: "/etc/containerd/auth.json", Renew: &off},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !chain[0].Source.(*HelperSource).helper.cache.renew || chain[1].Source.(*HelperSource).helper.cache.renew {
		t.Fatal("renew is not what the config says for helper sources")
	}
	if chain[2].Source.(*DockerConfigSource).helpers.renew {
		t.Fatal("renew = false did not reach the helpers a docker config names")
	}
}
