package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// packageHeading is how docs/architecture.md introduces a package: a
// third-level heading naming its directory (main.go for the root).
var packageHeading = regexp.MustCompile("(?m)^### `([^`]+)`$")

// TestArchitectureDoc keeps docs/architecture.md in step with the tree:
// every package has its paragraph, and every paragraph has its package.
func TestArchitectureDoc(t *testing.T) {
	doc, err := os.ReadFile("docs/architecture.md")
	if err != nil {
		t.Fatal(err)
	}
	var described []string
	for _, m := range packageHeading.FindAllStringSubmatch(string(doc), -1) {
		described = append(described, strings.TrimSuffix(m[1], "main.go"))
	}
	pkgs := packageDirs(t)
	for _, p := range pkgs {
		if !slices.Contains(described, p) {
			t.Errorf("docs/architecture.md does not describe package %q: add a ### `%s` paragraph", p, p)
		}
	}
	for _, d := range described {
		if !slices.Contains(pkgs, d) {
			t.Errorf("docs/architecture.md describes %q, which is not a package", d)
		}
	}
}

// packageDirs are the directories of the module holding Go files, as
// `go list ./...` finds them ("" for the root): hidden, _-prefixed and
// testdata directories are not packages.
func packageDirs(t *testing.T) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != "." && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(name, ".go") {
			dir := filepath.ToSlash(filepath.Dir(path))
			if dir == "." {
				dir = ""
			}
			if !slices.Contains(out, dir) {
				out = append(out, dir)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) < 10 {
		t.Fatalf("found only %d packages: %v", len(out), out)
	}
	return out
}
