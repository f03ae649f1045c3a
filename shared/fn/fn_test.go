package fn_test

import (
	"strings"
	"testing"
	"time"

	"xbr/shared/config"
	"xbr/shared/fn"
)

func TestSelectFunctions(t *testing.T) {
	all := []fn.Function{{Name: "timer"}, {Name: "export"}, {Name: "gateway"}}
	cases := []struct {
		list, want, err string
	}{
		{"", "timer,export,gateway", ""},
		{"all", "timer,export,gateway", ""},
		{"export", "export", ""},
		{" gateway , timer,gateway", "gateway,timer", ""},
		{"export,backup", "", `--functions: unknown function "backup" (known: export, gateway, timer)`},
		{"export,", "", `--functions: unknown function ""`},
	}
	for _, c := range cases {
		got, err := fn.Select(all, c.list)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("Select(%q): error %v, want %q", c.list, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("Select(%q): %v", c.list, err)
		}
		var names []string
		for _, f := range got {
			names = append(names, f.Name)
		}
		if strings.Join(names, ",") != c.want {
			t.Errorf("Select(%q) = %v, want %s", c.list, names, c.want)
		}
	}
}

func TestTopologyCarriesTheDuplicateWindow(t *testing.T) {
	env := &fn.Env{Config: &config.Config{NATS: config.NATS{DuplicateWindow: 90 * time.Second}}}
	if got := env.Topology().DuplicateWindow; got != 90*time.Second {
		t.Errorf("Topology().DuplicateWindow = %v, want 1m30s", got)
	}
}

func TestTopologyCarriesTheByteLimits(t *testing.T) {
	env := &fn.Env{Config: &config.Config{NATS: config.NATS{EventsMaxBytes: 3 << 30, ProgressMaxBytes: 2 << 20, DLQMaxBytes: 1 << 20}}}
	topo := env.Topology()
	if topo.EventsMaxBytes != 3<<30 || topo.ProgressMaxBytes != 2<<20 || topo.DLQMaxBytes != 1<<20 {
		t.Errorf("Topology() byte limits = %d, %d, %d; want 3 GiB, 2 MiB, 1 MiB", topo.EventsMaxBytes, topo.ProgressMaxBytes, topo.DLQMaxBytes)
	}
}
