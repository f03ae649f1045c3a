package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"xbr/shared/remote"
)

// Backups xbr lists and names but cannot restore or verify yet: reported as a Problem
// wrapping one of these, which verify skips instead of failing (see Unsupported).
var (
	ErrXODelta         = errors.New("XO delta backup: not restorable by xbr yet")
	ErrEncryptedRemote = errors.New("encrypted XO remote")
)

// Unsupported reports whether a listing Problem is a kind of backup xbr does not handle yet
// (an XO delta backup, a backup on an encrypted XO remote), as opposed to damage.
func Unsupported(err error) bool {
	return errors.Is(err, ErrXODelta) || errors.Is(err, ErrEncryptedRemote)
}

// withoutData describes the .json files that have no .xva: XO's delta backups (their disks
// are VHDs under vdis/), or full backups whose data is gone.
func withoutData(ctx context.Context, r Opener, ids []ID) ([]Problem, error) {
	results, err := readAll(ctx, r, ids)
	if err != nil {
		return nil, err
	}
	problems := make([]Problem, len(ids))
	for i, id := range ids {
		problems[i] = Problem{Key: id.MetaKey(), Err: fmt.Errorf("%w %s", ErrMissingData, id.DataKey())}
		if errors.Is(results[i].err, ErrXODelta) {
			problems[i].Err = results[i].err
		}
	}
	return problems, nil
}

// CheckWritable refuses a remote that Xen Orchestra encrypts (see encryptedRemote):
// xbr writes plaintext there, which xbr's own listing cannot tell from XO's ciphertext
// (so the backup is never listed nor pruned) and which XO's cleanVm, failing to decrypt
// the .json, deletes as orphan files. The error wraps ErrEncryptedRemote; reading
// encryption.json may also fail with the remote's error.
func CheckWritable(ctx context.Context, r Opener) error {
	encrypted, err := encryptedRemote(ctx, r)
	if err != nil {
		return fmt.Errorf("read %s: %w", encryptionFile, err)
	}
	if encrypted {
		return fmt.Errorf("%w (its %s names an algorithm): xbr writes no backup there, since XO deletes files it cannot decrypt",
			ErrEncryptedRemote, encryptionFile)
	}
	return nil
}

// encryptionFile is where Xen Orchestra records a remote's encryption, in plain text:
// {"algorithm":"chacha20-poly1305"|"aes-256-gcm"|"none"}.
const encryptionFile = "encryption.json"

// encryptedRemote reports whether the remote is encrypted by Xen Orchestra: its
// encryption.json names an algorithm other than "none" (or cannot be read as JSON).
func encryptedRemote(ctx context.Context, r Opener) (bool, error) {
	rc, err := r.Open(ctx, encryptionFile)
	if errors.Is(err, remote.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer rc.Close()
	var desc struct {
		Algorithm string `json:"algorithm"`
	}
	if err := json.NewDecoder(io.LimitReader(rc, 64<<10)).Decode(&desc); err != nil {
		return true, nil
	}
	return desc.Algorithm != "none", nil
}
