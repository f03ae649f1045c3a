package restore_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"xbr/functions/restore"
	"xbr/shared/compress"
	"xbr/shared/restoreclient"
	"xbr/shared/xapi"
	"xbr/shared/xapi/xapisim"
)

// BenchmarkImport compares PUT /import of a stored XVA sent as is (the floor)
// with the whole restore handler (verification, SHA-256, finishing).
func BenchmarkImport(b *testing.B) {
	for _, codec := range []compress.Codec{compress.None, compress.Gzip} {
		e := newEnv(b, xapisim.Options{DiskSize: 128 << 20, VMs: 2, DataDir: b.TempDir()})
		id := e.writeBackup(e.halted(), backupOpts{codec: codec})
		path := filepath.Join(e.root, id.DataKey())
		info, err := os.Stat(path)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(string(codec)+"/raw", func(b *testing.B) {
			b.SetBytes(info.Size())
			for b.Loop() {
				f, _ := os.Open(path)
				if _, err := e.client.Import(context.Background(), f, info.Size(), xapi.ImportOptions{}); err != nil {
					b.Fatal(err)
				}
				f.Close()
			}
		})
		b.Run(string(codec)+"/restore", func(b *testing.B) {
			b.SetBytes(info.Size())
			for b.Loop() {
				ev := request(b, restoreclient.Params{BackupID: id.String(), Key: time.Now().String()}, 1)
				if _, err := e.h.Handle(context.Background(), ev); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerifier is the verifier alone: SHA-256 and the withheld tail.
func BenchmarkVerifier(b *testing.B) {
	data := bytes.Repeat([]byte("0123456789abcdef"), 4<<20)
	sum := sha256.Sum256(data)
	b.SetBytes(int64(len(data)))
	buf := make([]byte, 32<<10) // what the import's copy reads at once
	for b.Loop() {
		v := restore.NewVerifierForTest(bytes.NewReader(data), int64(len(data)), sum[:])
		if _, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{v}, buf); err != nil {
			b.Fatal(err)
		}
	}
}
