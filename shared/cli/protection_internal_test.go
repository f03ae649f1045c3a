package cli

import (
	"strings"
	"testing"
)

func TestProtectionRequestChecksStates(t *testing.T) {
	req, err := protectionRequest("lab", []string{"late", "failing", "unprotected"})
	if err != nil || req.Pool != "lab" || len(req.States) != 3 {
		t.Fatalf("good states: %+v, %v", req, err)
	}
	_, err = protectionRequest("", []string{"late", "sad"})
	if err == nil || !strings.Contains(err.Error(), `--state: unknown state "sad"`) {
		t.Fatalf("an unknown state: %v", err)
	}
}
