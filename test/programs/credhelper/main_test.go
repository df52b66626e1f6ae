package main

import (
	"testing"

	"github.com/docker/docker-credential-helpers/credentials"
)

func TestHelperGet(t *testing.T) {
	h := helper{cfg: Config{Creds: map[string]string{"r.io": "robot:pw:with:colons"}}}
	user, secret, err := h.Get("r.io")
	if err != nil || user != "robot" || secret != "pw:with:colons" {
		t.Fatalf("Get(r.io) = %q, %q, %v", user, secret, err)
	}
	if _, _, err := h.Get("other.io"); !credentials.IsErrCredentialsNotFound(err) {
		t.Fatalf("Get(other.io) err = %v, want not found", err)
	}
}
