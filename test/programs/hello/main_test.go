package main

import (
	"io"
	"net/http/httptest"
	"testing"
)

func TestHandlerAnswersText(t *testing.T) {
	srv := httptest.NewServer(handler("pod-42"))
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL + "/anything")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if string(b) != "pod-42" {
		t.Fatalf("got %q, want %q", b, "pod-42")
	}
}
