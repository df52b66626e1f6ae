package e2e

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nodecred/nodecred/test/e2e/harness"
)

func TestConfigMistakesStopContainerd(t *testing.T) {
	tests := []struct {
		name, source, want string
	}{
		{"unknown type", `type = "vault"`, `sources[0].type: unknown source type \"vault\"`},
		{"missing path", `type = "dockerconfig"`, `sources[0].path: required`},
		{"relative path", "type = \"dockerconfig\"\npath = \"auth.json\"", `sources[0].path: \"auth.json\" is not an absolute path`},
		{"static without username", "type = \"static\"\nhosts = [\"r.io\"]\npassword_file = \"/pw\"", `sources[0].username: required`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, err := os.MkdirTemp("", "nc")
			if err != nil {
				t.Fatal(err)
			}
			defer os.RemoveAll(dir)
			err, out := harness.RunContainerd(context.Background(), bins.Containerd, dir, harness.ContainerdConfig{
				Nodecred: nodecredSection("", tt.source),
			}, 60*time.Second)
			if err == nil {
				t.Fatalf("containerd exited cleanly with a bad config")
			}
			if strings.Contains(out, "containerd successfully booted") {
				t.Fatalf("containerd booted with a bad config")
			}
			if !strings.Contains(out, tt.want) {
				t.Fatalf("containerd output does not name the mistake %s:\n%s", tt.want, out)
			}
		})
	}
}
