package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportRules holds the layout's dependency rules: no package imports
// the transport, model imports nothing of Hookline's, store is the only
// GORM importer, delivery and store do not reach each other, and the feed
// reaches neither.
func TestImportRules(t *testing.T) {
	const mod = "github.com/hookline/hookline"
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports ","}} {{join .Deps ","}}`, "./...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	imports, deps := map[string][]string{}, map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, " ")
		for len(f) < 3 {
			f = append(f, "")
		}
		imports[f[0]], deps[f[0]] = strings.Split(f[1], ","), strings.Split(f[2], ",")
	}
	if len(imports) < 10 {
		t.Fatalf("go list found %d packages; want the whole module", len(imports))
	}
	ours := func(p string) bool { return p == mod || strings.HasPrefix(p, mod+"/") }
	for pkg, imps := range imports {
		for _, imp := range imps {
			switch {
			case imp == mod+"/httpapi" && pkg != mod:
				t.Errorf("%s imports the transport (httpapi); only the binary may", pkg)
			case pkg == mod+"/model" && ours(imp):
				t.Errorf("model imports %s; it must import nothing of Hookline's", imp)
			case strings.HasPrefix(imp, "gorm.io/") && pkg != mod+"/store":
				t.Errorf("%s imports %s; only store may import GORM", pkg, imp)
			}
		}
	}
	for pkg, reach := range deps {
		for _, dep := range reach {
			switch {
			case strings.HasPrefix(pkg, mod+"/delivery") && dep == mod+"/store",
				pkg == mod+"/store" && strings.HasPrefix(dep, mod+"/delivery"),
				pkg == mod+"/feed" && (dep == mod+"/store" || strings.HasPrefix(dep, mod+"/delivery")):
				t.Errorf("%s reaches %s", pkg, dep)
			}
		}
	}
}
