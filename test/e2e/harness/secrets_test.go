package harness

import (
	"encoding/base64"
	"strings"
	"testing"
)

func TestLeaksFindsEveryForm(t *testing.T) {
	forms := SecretForms("robot", "pw-1234")
	tests := []struct {
		log  string
		want bool
	}{
		{"msg=pulled", false},
		{"password=pw-1234", true},
		{"Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte("robot:pw-1234")), true},
		{"auth=" + base64.RawURLEncoding.EncodeToString([]byte("pw-1234")), true},
		{"user=robot", false},
	}
	for _, tt := range tests {
		if got := len(Leaks(tt.log, forms)) > 0; got != tt.want {
			t.Errorf("Leaks(%q) found = %v, want %v", tt.log, got, tt.want)
		}
	}
}

func TestHostsTomlAndConfigRender(t *testing.T) {
	dir := t.TempDir()
	if err := WriteHostsToml(dir, "up:5000", "up:5000", "mirror:6000"); err != nil {
		t.Fatal(err)
	}
	cfg := ContainerdConfig{HostsDir: dir, SandboxImage: "up:5000/pause:1"}.Render("/x")
	for _, want := range []string{`config_path = "` + dir + `"`, `sandbox = "up:5000/pause:1"`, `level = "debug"`, `address = "/x/c.sock"`} {
		if !strings.Contains(cfg, want) {
			t.Errorf("config lacks %s:\n%s", want, cfg)
		}
	}
}
