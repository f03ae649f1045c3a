package bus_test

import (
	"errors"
	"log/slog"
	"strings"
	"testing"

	"xbr/shared/bus"
)

// TestConnectErrorHidesTheURLsPassword: a password in the NATS URL never
// reaches the error, also when the URL does not parse (a '/', '#', space
// or bad %-escape in the password) or has no scheme (NATS adds nats://).
func TestConnectErrorHidesTheURLsPassword(t *testing.T) {
	for _, url := range []string{
		"nats://admin:pw-Secret-1@127.0.0.1:1",
		"nats://admin:pw-Secret-1/x@127.0.0.1:1",
		"nats://admin:pw-Secret-1#x@127.0.0.1:1",
		"nats://admin:pw-Secret-1 x@127.0.0.1:1",
		"nats://admin:pw-Secret-1%zz@127.0.0.1:1",
		"admin:pw-Secret-1@127.0.0.1:1",
		"nats://127.0.0.1:1,nats://admin:pw-Secret-1/x@127.0.0.1:2",
	} {
		conn, err := bus.Connect(url, bus.ConnectOptions{}, slog.New(slog.DiscardHandler))
		if err == nil {
			conn.Close()
			t.Fatalf("%s: connected to a closed port", url)
		}
		if strings.Contains(err.Error(), "Secret") || !strings.Contains(err.Error(), "127.0.0.1:1") {
			t.Errorf("%s: error %q shows the password or not the server", url, err)
		}
	}
}

// TestConnectWithNoServerSaysSo: when nothing answers at the URL the
// error is ErrNoServer and names the (redacted) URL, so that a caller can
// say that no server runs there rather than blame the login.
func TestConnectWithNoServerSaysSo(t *testing.T) {
	conn, err := bus.Connect("nats://admin:pw-Secret-1@127.0.0.1:1", bus.ConnectOptions{}, slog.New(slog.DiscardHandler))
	if err == nil {
		conn.Close()
		t.Fatal("connected to a closed port")
	}
	if !errors.Is(err, bus.ErrNoServer) || !strings.HasPrefix(err.Error(), "no NATS server answered at nats://REDACTED@127.0.0.1:1") {
		t.Errorf("error %q: want bus.ErrNoServer naming the redacted URL first", err)
	}
}
