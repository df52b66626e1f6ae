package credentials

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/containerd/log"
	"github.com/sirupsen/logrus"
)

// capturedLog returns a context whose logger writes into the returned buffer.
func capturedLog(t *testing.T) (context.Context, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	l := logrus.New()
	l.SetOutput(&buf)
	l.SetLevel(logrus.TraceLevel)
	return log.WithLogger(context.Background(), logrus.NewEntry(l)), &buf
}

func auths(user, pass string) string {
	return `{"auths": {"r.example.com": {"auth": "` + b64(user+":"+pass) + `"}}}`
}

func lookupUser(t *testing.T, ctx context.Context, src Source) string {
	t.Helper()
	c, err := src.Get(ctx, Request{Host: "r.example.com", Ref: "r.example.com/app:1"})
	if err != nil {
		t.Fatal(err)
	}
	return c.Username
}

func TestReloadAfterRenameOver(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "auth.json")
	writeAtomic(t, path, auths("first", "p1"))
	src := NewDockerConfigSource(path, 0)
	ctx := context.Background()
	if got := lookupUser(t, ctx, src); got != "first" {
		t.Fatalf("got %q, want first", got)
	}
	// Same size and, on coarse clocks, the same mtime: the inode tells.
	writeAtomic(t, path, auths("secnd", "p2"))
	if got := lookupUser(t, ctx, src); got != "secnd" {
		t.Fatalf("after rename over: got %q, want secnd", got)
	}
}

func TestReloadAfterDeleteAndRecreate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "auth.json")
	writeAtomic(t, path, auths("first", "p1"))
	src := NewDockerConfigSource(path, 0)
	ctx, logs := capturedLog(t)
	if got := lookupUser(t, ctx, src); got != "first" {
		t.Fatalf("got %q, want first", got)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if got := lookupUser(t, ctx, src); got != "first" {
		t.Fatalf("while deleted: got %q, want the last good first", got)
	}
	if !strings.Contains(logs.String(), "credential file is missing") {
		t.Errorf("no warning for the missing file; log:\n%s", logs)
	}
	if err := os.WriteFile(path, []byte(auths("third", "p3")), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := lookupUser(t, ctx, src); got != "third" {
		t.Fatalf("after recreate: got %q, want third", got)
	}
}

func TestMalformedEditKeepsLastGoodAndWarnsOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "auth.json")
	writeAtomic(t, path, auths("first", "p1"))
	src := NewDockerConfigSource(path, 0)
	ctx, logs := capturedLog(t)
	lookupUser(t, ctx, src)
	writeAtomic(t, path, `{"auths": {"r.example.com": {"auth": "secret-half-writ`)
	for range 3 {
		if got := lookupUser(t, ctx, src); got != "first" {
			t.Fatalf("after malformed edit: got %q, want the last good first", got)
		}
	}
	if n := strings.Count(logs.String(), "cannot parse credential file"); n != 1 {
		t.Errorf("parse warnings = %d, want 1; log:\n%s", n, logs)
	}
	if strings.Contains(logs.String(), "secret-half-writ") {
		t.Errorf("log carries file contents:\n%s", logs)
	}
}

func TestMissingAtStartIsNotFoundAndWarns(t *testing.T) {
	src := NewDockerConfigSource(filepath.Join(t.TempDir(), "later.json"), 0)
	ctx, logs := capturedLog(t)
	if got := lookupUser(t, ctx, src); got != "" {
		t.Fatalf("got %q from a missing file", got)
	}
	if !strings.Contains(logs.String(), "credential file is missing") {
		t.Errorf("no warning; log:\n%s", logs)
	}
}

func TestSecretFileModeWarning(t *testing.T) {
	path := filepath.Join(t.TempDir(), "auth.json")
	if err := os.WriteFile(path, []byte(auths("u", "p")), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, logs := capturedLog(t)
	lookupUser(t, ctx, NewDockerConfigSource(path, 0))
	if !strings.Contains(logs.String(), "readable by group or others") {
		t.Errorf("no warning for a 0644 secret file; log:\n%s", logs)
	}
}

func writeAtomic(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}
