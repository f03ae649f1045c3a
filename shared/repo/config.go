package repo

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// Values of Config's fields.
const (
	FormatName       = "xbr-repo"
	FormatVersion    = 1
	DefaultChunkSize = 1 << 20
	// MinChunkSize is XAPI's changed-block-tracking block: a chunk is a whole number of them.
	MinChunkSize  = 64 << 10
	MaxChunkSize  = 16 << 20
	IDSHA256      = "sha256"
	IDHMACSHA256  = "hmac-sha256"
	CompressZstd  = "zstd"
	CipherXChaCha = "xchacha20-poly1305"
	KDFHKDFSHA256 = "hkdf-sha256"
	// maxConfigSize bounds config.json as read from a remote.
	maxConfigSize = 64 << 10
)

// ErrWrongKey: the key given does not open this repository (its key check value differs).
var ErrWrongKey = errors.New("the encryption key does not match this repository")

// Config is config.json: how the repository cuts, names, compresses and encrypts. It holds
// no key, only what proves one.
type Config struct {
	Format      string      `json:"format"`
	Version     int         `json:"version"`
	ChunkSize   int         `json:"chunk_size"`
	ChunkID     string      `json:"chunk_id"`
	Compression string      `json:"compression"`
	Encryption  *Encryption `json:"encryption,omitempty"`
	Created     time.Time   `json:"created"`
}

// Encryption holds the parameters of an encrypted repository.
type Encryption struct {
	Algorithm string `json:"algorithm"`
	KDF       string `json:"kdf"`
	// Salt (base64, 32 bytes) makes the derived keys, and so the chunk ids, differ between
	// repositories that share a key.
	Salt string `json:"salt"`
	// KeyCheck (hex) is a key derived for this purpose only: a wrong key is refused.
	KeyCheck string `json:"key_check"`
}

// newConfig returns the configuration of a new repository; k.IsZero() means plain.
func newConfig(chunkSize int, k Key, now time.Time) (Config, error) {
	c := Config{Format: FormatName, Version: FormatVersion, ChunkSize: chunkSize, ChunkID: IDSHA256,
		Compression: CompressZstd, Created: now.UTC().Truncate(time.Second)}
	if c.ChunkSize == 0 {
		c.ChunkSize = DefaultChunkSize
	}
	if !k.IsZero() {
		salt := make([]byte, 32)
		if _, err := rand.Read(salt); err != nil {
			return Config{}, fmt.Errorf("repository salt: %w", err)
		}
		c.ChunkID = IDHMACSHA256
		c.Encryption = &Encryption{Algorithm: CipherXChaCha, KDF: KDFHKDFSHA256,
			Salt: base64.StdEncoding.EncodeToString(salt), KeyCheck: hex.EncodeToString(k.derive(salt, infoKeyCheck))}
	}
	return c, c.Validate()
}

// Validate checks every field; errors name the field and its value.
func (c Config) Validate() error {
	switch {
	case c.Format != FormatName:
		return fmt.Errorf("config.json: format %q: want %q", clip(c.Format), FormatName)
	case c.Version != FormatVersion:
		return fmt.Errorf("config.json: version %d: this xbr reads version %d", c.Version, FormatVersion)
	case c.ChunkSize < MinChunkSize || c.ChunkSize > MaxChunkSize || c.ChunkSize%MinChunkSize != 0:
		return fmt.Errorf("config.json: chunk_size %d: want a multiple of %d between %d and %d",
			c.ChunkSize, MinChunkSize, MinChunkSize, MaxChunkSize)
	case c.Compression != CompressZstd:
		return fmt.Errorf("config.json: compression %q: want %q", clip(c.Compression), CompressZstd)
	}
	if c.Encryption == nil {
		if c.ChunkID != IDSHA256 {
			return fmt.Errorf("config.json: chunk_id %q: a plain repository uses %q", clip(c.ChunkID), IDSHA256)
		}
		return nil
	}
	if c.ChunkID != IDHMACSHA256 {
		return fmt.Errorf("config.json: chunk_id %q: an encrypted repository uses %q", clip(c.ChunkID), IDHMACSHA256)
	}
	return c.Encryption.validate()
}

func (e *Encryption) validate() error {
	switch {
	case e.Algorithm != CipherXChaCha:
		return fmt.Errorf("config.json: encryption.algorithm %q: want %q", clip(e.Algorithm), CipherXChaCha)
	case e.KDF != KDFHKDFSHA256:
		return fmt.Errorf("config.json: encryption.kdf %q: want %q", clip(e.KDF), KDFHKDFSHA256)
	}
	if salt, err := base64.StdEncoding.DecodeString(e.Salt); err != nil || len(salt) != 32 {
		return fmt.Errorf("config.json: encryption.salt %q: want 32 bytes in standard base64", clip(e.Salt))
	}
	if kc, err := hex.DecodeString(e.KeyCheck); err != nil || len(kc) != KeySize {
		return fmt.Errorf("config.json: encryption.key_check %q: want %d bytes in hex", clip(e.KeyCheck), KeySize)
	}
	return nil
}

// ParseConfig reads and validates config.json. Unknown fields are refused: a newer format
// must not be misread.
func ParseConfig(r io.Reader) (Config, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxConfigSize+1))
	if err != nil {
		return Config{}, fmt.Errorf("config.json: %w", err)
	}
	if len(data) > maxConfigSize {
		return Config{}, fmt.Errorf("config.json: larger than %d bytes", maxConfigSize)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var c Config
	if err := dec.Decode(&c); err != nil {
		return Config{}, fmt.Errorf("config.json: %w", err)
	}
	if dec.More() {
		return Config{}, errors.New("config.json: data after the object")
	}
	return c, c.Validate()
}

// codec returns the codec for key k; it refuses a wrong key and a missing or superfluous one.
// concurrency is how many chunks are compressed at once.
func (c Config) codec(k Key, concurrency int) (*codec, error) {
	if c.Encryption == nil {
		if !k.IsZero() {
			return nil, errors.New("the repository is not encrypted, but an encryption key was given")
		}
		return newCodec(c.ChunkSize, concurrency, nil, nil)
	}
	if k.IsZero() {
		return nil, errors.New("the repository is encrypted: an encryption key file is needed")
	}
	salt, _ := base64.StdEncoding.DecodeString(c.Encryption.Salt)
	want, _ := hex.DecodeString(c.Encryption.KeyCheck)
	if subtle.ConstantTimeCompare(k.derive(salt, infoKeyCheck), want) != 1 {
		return nil, ErrWrongKey
	}
	return newCodec(c.ChunkSize, concurrency, k.derive(salt, infoIDKey), k.derive(salt, infoDataKey))
}
