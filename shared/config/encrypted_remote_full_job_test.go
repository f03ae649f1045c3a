package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"xbr/shared/config"
)

// A remote with encryption_key_file is one whose backups are to be encrypted at rest (issue
// 15: "no plaintext of a VM disk on the remote"). Only its incremental repository is: a
// full job (base's "nightly") still writes plain XVAs of every disk to it. The
// configuration says nothing; it should refuse such a job (or at least say so).
func TestFullJobToAnEncryptedRemoteIsRefused(t *testing.T) {
	key := filepath.Join(t.TempDir(), "nfs.key")
	if err := os.WriteFile(key, []byte("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(base, "    path: /mnt/b\n", "    path: /mnt/b\n    encryption_key_file: "+key+"\n", 1)
	c, err := config.Parse("xbr.yaml", []byte(text), env("XBR_PW", pw))
	if err == nil {
		j, _ := c.Job("nightly")
		t.Fatalf("a %s job writing plain XVAs to remote nfs, whose encryption_key_file is set, was accepted", j.Mode)
	}
	if !strings.Contains(err.Error(), "encrypt") {
		t.Fatalf("refused for another reason: %v", err)
	}
}
