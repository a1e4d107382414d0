// Command k8s-validate checks Kubernetes manifests (a multi-document YAML stream, as `helm
// template` prints) offline, against the API types compiled into client-go:
//
//   - every document decodes strictly into its built-in type: an unknown or duplicated field, or
//     a value of the wrong type, is an error (the API server's strict field validation);
//   - the decoded object is checked against the structural schema client-go carries for
//     server-side apply (generated from the Kubernetes OpenAPI document);
//   - the rules the API server enforces that no schema carries: names, labels, selectors that
//     match their pod template, container ports and names, env var names, volume mounts that
//     name a declared volume, probe ports, PDB and HPA bounds.
//
// Kinds that are not built in (a ServiceMonitor) are errors unless named with -skip-kinds.
//
//	helm template ... | k8s-validate [-skip-kinds ServiceMonitor] [file ...]
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	kjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
	"k8s.io/apimachinery/pkg/util/managedfields"
	kyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/applyconfigurations"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/yaml"
)

// version is printed by -version; scripts/install-k8s-tools.sh rebuilds when the sources change.
const version = "1"

type document struct {
	index int
	raw   []byte
}

type header struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
}

func main() {
	skip := flag.String("skip-kinds", "", "comma-separated kinds with no built-in schema to pass over (reported as skipped)")
	showVersion := flag.Bool("version", false, "print the version and exit")
	flag.Parse()
	if *showVersion {
		fmt.Println("k8s-validate", version)
		return
	}
	skipped := map[string]bool{}
	for _, k := range strings.Split(*skip, ",") {
		if k = strings.TrimSpace(k); k != "" {
			skipped[k] = true
		}
	}
	var docs []document
	inputs := flag.Args()
	if len(inputs) == 0 {
		inputs = []string{"-"}
	}
	for _, in := range inputs {
		var r io.Reader = os.Stdin
		if in != "-" {
			f, err := os.Open(in)
			if err != nil {
				fail(err)
			}
			defer f.Close()
			r = f
		}
		read, err := split(r, len(docs))
		if err != nil {
			fail(fmt.Errorf("%s: %w", in, err))
		}
		docs = append(docs, read...)
	}
	v := newValidator()
	valid, invalid, passed := 0, 0, 0
	for _, d := range docs {
		name, problems, skippedKind := v.check(d, skipped)
		switch {
		case len(problems) > 0:
			invalid++
			for _, p := range problems {
				fmt.Printf("INVALID %s: %s\n", name, p)
			}
		case skippedKind:
			passed++
			fmt.Printf("skipped %s (no built-in schema)\n", name)
		default:
			valid++
			fmt.Printf("ok %s\n", name)
		}
	}
	fmt.Printf("k8s-validate: %d documents, %d valid, %d invalid, %d skipped\n", len(docs), valid, invalid, passed)
	if len(docs) == 0 {
		fail(errors.New("no document to validate"))
	}
	if invalid > 0 {
		os.Exit(1)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "k8s-validate:", err)
	os.Exit(2)
}

func split(r io.Reader, offset int) ([]document, error) {
	reader := kyaml.NewYAMLReader(bufio.NewReader(r))
	var docs []document
	for {
		raw, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		if isEmpty(raw) {
			continue
		}
		docs = append(docs, document{index: offset + len(docs) + 1, raw: raw})
	}
}

func isEmpty(raw []byte) bool {
	for _, line := range strings.Split(string(raw), "\n") {
		t := strings.TrimSpace(line)
		if t != "" && t != "---" && !strings.HasPrefix(t, "#") {
			return false
		}
	}
	return true
}

type validator struct {
	decoder   runtime.Decoder
	converter managedfields.TypeConverter
}

func newValidator() *validator {
	strict := kjson.NewSerializerWithOptions(kjson.DefaultMetaFactory, scheme.Scheme, scheme.Scheme,
		kjson.SerializerOptions{Yaml: false, Pretty: false, Strict: true})
	return &validator{decoder: strict, converter: applyconfigurations.NewTypeConverter(scheme.Scheme)}
}

func (v *validator) check(d document, skipped map[string]bool) (string, []string, bool) {
	name := fmt.Sprintf("document %d", d.index)
	data, err := yaml.YAMLToJSONStrict(d.raw)
	if err != nil {
		return name, []string{"not valid YAML: " + err.Error()}, false
	}
	var h header
	if err := json.Unmarshal(data, &h); err != nil {
		return name, []string{"not an object: " + err.Error()}, false
	}
	name = fmt.Sprintf("%s/%s (document %d)", h.Kind, h.Metadata.Name, d.index)
	if h.APIVersion == "" || h.Kind == "" {
		return name, []string{"apiVersion and kind are required"}, false
	}
	if h.Metadata.Name == "" {
		return name, []string{"metadata.name is required"}, false
	}
	gv, err := schema.ParseGroupVersion(h.APIVersion)
	if err != nil {
		return name, []string{"apiVersion: " + err.Error()}, false
	}
	if !scheme.Scheme.Recognizes(gv.WithKind(h.Kind)) {
		if skipped[h.Kind] {
			return name, nil, true
		}
		return name, []string{fmt.Sprintf("%s %s is not a built-in kind (pass -skip-kinds %s to allow it)", h.APIVersion, h.Kind, h.Kind)}, false
	}
	obj, _, err := v.decoder.Decode(data, nil, nil)
	if err != nil {
		return name, []string{"does not match the schema: " + err.Error()}, false
	}
	var problems []string
	if _, err := v.converter.ObjectToTyped(obj); err != nil {
		problems = append(problems, "does not match the structural schema: "+err.Error())
	}
	problems = append(problems, semantic(obj)...)
	return name, problems, false
}
