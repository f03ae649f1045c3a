package cli_test

import (
	"strings"
	"testing"
)

// TestUsageMistakesFailWithExitTwo: a typo in a subcommand, an unknown flag
// or a wrong number of arguments is a usage error, exit 2 as the commands'
// own usage errors are, naming what is wrong. A typo under a group such as
// `config chek` used to print the help and exit 0, so a script's
// `xbr config chek xbr.yaml && deploy` went on unchecked; so did a
// misspelt help topic (`xbr help bakups` printed xbr's help).
func TestUsageMistakesFailWithExitTwo(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"config", "chek", "xbr.yaml"}, []string{`unknown command "chek" for "xbr config"`, `"check"`}},
		{[]string{"config", "show"}, []string{`unknown command "show" for "xbr config"`, "xbr config --help"}},
		{[]string{"backups", "lss", "--nats", "nats://127.0.0.1:1"}, []string{`unknown command "lss" for "xbr backups"`, `"ls"`}},
		{[]string{"dr", "failovr", "vm-01"}, []string{`unknown command "failovr" for "xbr dr"`, `"failover"`}},
		{[]string{"bakups", "ls"}, []string{`unknown command "bakups" for "xbr"`, `"backups"`}},
		{[]string{"verify", "--bogus"}, []string{"unknown flag: --bogus", "xbr verify --help"}},
		{[]string{"verify", "a", "b"}, []string{"accepts at most 1 arg(s), received 2"}},
		{[]string{"jobs", "ls", "extra"}, []string{`unknown command "extra" for "xbr jobs ls"`}},
		{[]string{"help", "bakups"}, []string{`unknown command "bakups" for "xbr"`, `"backups"`}},
		{[]string{"help", "backups", "lss"}, []string{`unknown command "lss" for "xbr backups"`, `"ls"`}},
	} {
		code, out, errOut := run(t, tc.args...)
		if code != 2 || out != "" {
			t.Errorf("xbr %s: exit %d, stdout %q, stderr %q; want exit 2 and nothing on stdout", strings.Join(tc.args, " "), code, out, errOut)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(errOut, w) {
				t.Errorf("xbr %s: stderr %q lacks %q", strings.Join(tc.args, " "), errOut, w)
			}
		}
	}
}

// TestAGroupAloneShowsItsHelp: `xbr backups` with no subcommand is a
// question, not a mistake: the help, exit 0.
func TestAGroupAloneShowsItsHelp(t *testing.T) {
	for _, args := range [][]string{{}, {"backups"}, {"config"}, {"backups", "--help"}, {"help"}, {"help", "backups"}} {
		code, out, errOut := run(t, args...)
		if code != 0 || !strings.Contains(out, "Available Commands:") || errOut != "" {
			t.Errorf("xbr %s: exit %d, stdout %q, stderr %q; want the help and exit 0", strings.Join(args, " "), code, out, errOut)
		}
	}
}
