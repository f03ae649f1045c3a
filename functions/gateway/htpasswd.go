package gateway

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// ReadUsersFile reads an htpasswd file of bcrypt hashes ("user:$2y$..." per
// line, as `htpasswd -B` writes them; blank lines and # comments allowed).
func ReadUsersFile(name string) (map[string][]byte, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("gateway.users_file: %w", err)
	}
	users, err := ParseUsers(data)
	if err != nil {
		return nil, fmt.Errorf("gateway.users_file: %s:%w", name, err)
	}
	return users, nil
}

// ParseUsers reads the text of an htpasswd file; errors name the line and
// never quote a hash.
func ParseUsers(data []byte) (map[string][]byte, error) {
	users := map[string][]byte{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		user, hash, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("%d: not user:hash", n)
		}
		if err := checkUserName(user); err != nil {
			return nil, fmt.Errorf("%d: user %.64q: %w", n, user, err)
		}
		if _, err := bcrypt.Cost([]byte(hash)); err != nil {
			return nil, fmt.Errorf("%d: user %q: the hash is not bcrypt (create it with htpasswd -B)", n, user)
		}
		if _, dup := users[user]; dup {
			return nil, fmt.Errorf("%d: user %q: listed twice", n, user)
		}
		users[user] = []byte(hash)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("0: %w", err)
	}
	return users, nil
}

// checkUserName accepts 1-64 bytes of printable text without ':' or spaces:
// the name goes into events (requested_by "web:<user>").
func checkUserName(u string) error {
	if u == "" || len(u) > 64 {
		return fmt.Errorf("must be 1 to 64 bytes")
	}
	if strings.ContainsAny(u, ": \t") {
		return fmt.Errorf("must not contain ':' or spaces")
	}
	return checkText("user", u)
}
