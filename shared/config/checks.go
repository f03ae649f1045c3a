package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"

	"xbr/shared/redact"
)

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)

// name checks a required name used in NATS subjects and ids.
func (p *problems) name(path, v string) {
	switch {
	case v == "":
		p.add(path, "missing")
	case !nameRE.MatchString(v):
		p.addValue(path, v, `use up to 64 letters, digits, "-" or "_", starting with a letter or digit`)
	}
}

// unique reports the second and later uses of each name.
func (p *problems) unique(kind string, names []string) {
	first := map[string]int{}
	for i, n := range names {
		if n == "" {
			continue
		}
		if j, dup := first[n]; dup {
			p.addValue(fmt.Sprintf("%s[%d].name", kind, i), n, "duplicate name (also %s[%d])", kind, j)
			continue
		}
		first[n] = i
	}
}

// refs checks a list of names against the known ones.
func (p *problems) refs(path, kind string, names []string, known func(string) bool) {
	seen := map[string]bool{}
	for i, n := range names {
		ip := fmt.Sprintf("%s[%d]", path, i)
		switch {
		case seen[n]:
			p.addValue(ip, n, "listed twice")
		case !known(n):
			p.addValue(ip, n, "no %s has this name", kind)
		}
		seen[n] = true
	}
}

func (p *problems) oneOf(path, v string, allowed ...string) {
	for _, a := range allowed {
		if v == a {
			return
		}
	}
	p.addValue(path, v, "must be %s", strings.Join(allowed, ", "))
}

func (p *problems) notNegative(path string, v int) {
	if v < 0 {
		p.addValue(path, strconv.Itoa(v), "must not be negative")
	}
}

// url checks an absolute URL with one of the schemes; credentials in it are
// never printed.
func (p *problems) url(path, raw string, schemes ...string) {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		p.addValue(path, redact.URL(raw), "not a URL: %v", err)
	case u.User != nil:
		p.addValue(path, u.Redacted(), "put credentials in their own fields, not in the URL")
	case u.Host == "" || u.Hostname() == "":
		// "user:password@host" parses as scheme "user": hide what may be a password
		p.addValue(path, redact.URL(raw), "not an absolute URL with a host (e.g. %s://host:port)", schemes[0])
	default:
		for _, s := range schemes {
			if u.Scheme == s {
				return
			}
		}
		p.addValue(path, raw, "scheme must be %s", strings.Join(schemes, " or "))
	}
}

// listen checks a host:port address.
func (p *problems) listen(path, v string) {
	host, port, err := net.SplitHostPort(v)
	n, perr := strconv.Atoi(port)
	if err != nil || perr != nil || n < 0 || n > 65535 || strings.ContainsAny(host, " /") {
		p.addValue(path, v, "not a host:port address (e.g. 127.0.0.1:8080)")
	}
}

// file checks that a file named in the configuration can be read.
func (p *problems) readable(path, name string) {
	if name == "" || p.noSecrets { // key files hold secrets too
		return
	}
	f, err := os.Open(name)
	if err != nil {
		p.addValue(path, name, "cannot read: %s", pathErr(err))
		return
	}
	_ = f.Close()
}
