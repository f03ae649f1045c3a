package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// placeholders are the words of help text that a markdown renderer eats:
// <remote>, <vm-uuid>, ... (taken for HTML tags) and XBR_NATS_* (emphasis).
var placeholders = regexp.MustCompile(`<[a-z][a-z -]*>|XBR_[A-Z_]*\*`)

// TestManPagesSayWhatHelpSays: each manual page keeps the placeholders of
// its command's help, so `man xbr-restore` shows the backup id as
// <remote>:<vm-uuid>/<timestamp>, not ":/", and "XBR_NATS_*", not
// "XBRNATS*".
func TestManPagesSayWhatHelpSays(t *testing.T) {
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	if code := Execute(context.Background(), []string{"man", dir}, &stdout, &stderr); code != 0 {
		t.Fatalf("xbr man: exit %d: %s", code, stderr.String())
	}
	checked := 0
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			if sub.IsAvailableCommand() {
				walk(sub)
			}
		}
		text := c.Short + "\n" + c.Long
		c.NonInheritedFlags().VisitAll(func(f *pflag.Flag) { text += "\n" + f.Usage })
		want := placeholders.FindAllString(text, -1)
		if len(want) == 0 {
			return
		}
		name := strings.ReplaceAll(c.CommandPath(), " ", "-") + ".1"
		page, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("%s: %v", c.CommandPath(), err)
			return
		}
		for _, w := range want {
			checked++
			if !bytes.Contains(page, []byte(w)) {
				t.Errorf("%s lacks %q, which 'xbr %s --help' shows", name, w, strings.TrimPrefix(c.CommandPath(), "xbr "))
			}
		}
	}
	walk(newRoot(&stdout, &stderr, nil))
	if checked == 0 {
		t.Fatal("no placeholder in any help text: nothing checked")
	}
}
