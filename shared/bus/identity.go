package bus

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"xbr/events"
)

// Identity is one login xbr keeps for its embedded server: a random
// password generated once, stored in <data dir>/nats/identities/<name>.json
// with mode 0600. Password is a secret: never logged.
type Identity struct {
	Name     string `json:"name"`
	User     string `json:"user"`
	Password string `json:"password"`
}

// LogValue names the identity without its password.
func (i Identity) LogValue() slog.Value {
	return slog.GroupValue(slog.String("name", i.Name), slog.String("user", i.User))
}

// Options are the connect options that log in as i.
func (i Identity) Options() ConnectOptions {
	return ConnectOptions{Name: "xbr-" + i.Name, User: i.User, Password: i.Password}
}

// IdentitiesDir is where the identities of data dir are kept.
func IdentitiesDir(dataDir string) string { return filepath.Join(dataDir, "nats", "identities") }

// EnsureIdentities loads the identities names from dir, creating those that
// do not exist yet.
func EnsureIdentities(dir string, names []string) (map[string]Identity, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("nats identities: %w", err)
	}
	out := make(map[string]Identity, len(names))
	for _, n := range names {
		id, err := LoadIdentity(dir, n)
		if errors.Is(err, fs.ErrNotExist) {
			id, err = newIdentity(dir, n)
		}
		if err != nil {
			return nil, err
		}
		out[n] = id
	}
	return out, nil
}

// LoadIdentity reads identity name from dir.
func LoadIdentity(dir, name string) (Identity, error) {
	path := filepath.Join(dir, name+".json")
	raw, err := os.ReadFile(path)
	if err != nil {
		return Identity{}, fmt.Errorf("nats identity %s: %w", name, err)
	}
	var id Identity
	if err := json.Unmarshal(raw, &id); err != nil {
		return Identity{}, fmt.Errorf("nats identity %s: %s is not an identity file", name, path)
	}
	if id.Name != name || id.User == "" || len(id.Password) < 32 {
		return Identity{}, fmt.Errorf("nats identity %s: %s lacks its name, user or a 32-character password", name, path)
	}
	return id, nil
}

func newIdentity(dir, name string) (Identity, error) {
	secret := make([]byte, 24)
	if _, err := rand.Read(secret); err != nil {
		return Identity{}, err
	}
	id := Identity{Name: name, User: events.UserName(name), Password: hex.EncodeToString(secret)}
	raw, _ := json.MarshalIndent(id, "", "  ")
	path := filepath.Join(dir, name+".json")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return Identity{}, fmt.Errorf("nats identity %s: %w", name, err)
	}
	_, err = f.Write(append(raw, '\n'))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return Identity{}, fmt.Errorf("nats identity %s: %w", name, err)
	}
	return id, nil
}
