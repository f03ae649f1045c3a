// Command bench measures xbr's full backup against the baselines of the
// design card, on the same simulated VM in the same invocation: curl of
// /export to a file (the I/O floor), curl | gzip -6 (XAPI's single-threaded
// compression, which Xen Orchestra uses), curl | pigz, curl | zstd -T2. xbr
// runs as a real `xbr serve` process per codec; its peak RSS comes from the
// kernel's rusage. Usage: go run ./scripts/bench -xbr bin/xbr -sizes 1GiB,6GiB
package main

import (
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"xbr/shared/xapi/xapisim"
)

func main() {
	xbrBin := flag.String("xbr", "bin/xbr", "the xbr binary to measure")
	sizes := flag.String("sizes", "1GiB,6GiB", "VM disk sizes, comma-separated")
	work := flag.String("work", "", "scratch directory (default a temp dir)")
	skipSlow := flag.Bool("skip-gzip6", false, "skip the slow curl | gzip -6 baseline")
	flag.Parse()
	if err := run(*xbrBin, *sizes, *work, *skipSlow); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(xbrBin, sizes, work string, skipSlow bool) error {
	if work == "" {
		d, err := os.MkdirTemp("", "xbr-bench")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		work = d
	}
	for _, s := range strings.Split(sizes, ",") {
		size, err := xapisim.ParseSize(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("-sizes %q: %w", s, err)
		}
		rows, err := benchSize(xbrBin, work, size, skipSlow)
		if err != nil {
			return err
		}
		fmt.Println(table(s, rows)) // as soon as each size is measured
	}
	return nil
}

func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
