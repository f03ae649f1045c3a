package main

import (
	"fmt"
	"strings"
)

// table renders the rows of one VM size: throughput in MB/s of the
// uncompressed XVA (the bytes of the "curl > file" row), output size, ratios
// to the baselines and peak RSS.
func table(size string, rows []row) string {
	var xvaBytes float64
	base := map[string]float64{}
	for _, r := range rows {
		if r.name == "curl > file" {
			xvaBytes = float64(r.out)
		}
	}
	for _, r := range rows {
		base[r.name] = xvaBytes / r.seconds / 1e6
	}
	var b strings.Builder
	fmt.Fprintf(&b, "VM disk %s, XVA %.0f MB\n\n", size, xvaBytes/1e6)
	b.WriteString("| what | MB/s of XVA | output MB | vs curl > file | vs curl, fsync | vs gzip -6 | vs pigz -p2 | vs zstd -T2 | peak RSS | export stage MB/s |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		mbs := base[r.name]
		rss := "-"
		if r.rssKiB > 0 {
			rss = fmt.Sprintf("%.0f MiB", float64(r.rssKiB)/1024)
		}
		stage := "-"
		if r.stage > 0 {
			stage = fmt.Sprintf("%.0f", r.stage)
		}
		fmt.Fprintf(&b, "| %s | %.0f | %.0f | %s | %s | %s | %s | %s | %s | %s |\n", r.name, mbs, float64(r.out)/1e6,
			ratio(mbs, base["curl > file"]), ratio(mbs, base["curl > file, fsync"]), ratio(mbs, base["curl | gzip -6"]),
			ratio(mbs, base["curl | pigz -p2 -6"]), ratio(mbs, base["curl | zstd -T2 -3"]), rss, stage)
	}
	return b.String()
}

func ratio(a, b float64) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f×", a/b)
}
