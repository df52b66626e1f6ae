package main

import (
	"testing"

	"github.com/docker/docker-credential-helpers/credentials"
)

func TestHelperGet(t *testing.T) {
	h := helper{creds: map[string]string{"r.io": "robot:pw:with:colons"}}
	user, secret, err := h.Get("r.io")
	if err != nil || user != "robot" || secret != "pw:with:colons" {
		t.Fatalf("Get(r.io) = %q, %q, %v", user, secret, err)
	}
	if _, _, err := h.Get("other.io"); !credentials.IsErrCredentialsNotFound(err) {
		t.Fatalf("Get(other.io) err = %v, want not found", err)
	}
}

func TestHelperFailGivesTheReason(t *testing.T) {
	t.Setenv("CREDHELPER_REASON", "token endpoint said 400")
	_, _, err := helper{mode: "fail"}.Get("r.io")
	if err == nil || err.Error() != "token endpoint said 400" || credentials.IsErrCredentialsNotFound(err) {
		t.Fatalf("fail mode err = %v", err)
	}
}
