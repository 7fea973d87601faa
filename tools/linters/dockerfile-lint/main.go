// dockerfile-lint runs the checks `docker build --check` runs (BuildKit's Dockerfile frontend, DockerfileLint) on
// Dockerfiles, without a Docker engine or a registry: base images are not pulled, each resolves to an empty config
// for the platform asked for. So checks that need the base image's content see only its PATH (a variable the base
// image sets, used without declaring it, is reported as UndefinedVar), and CopyIgnoredFile, which needs the build
// context, does not run. Prints "<file>:<line>: <rule>: <detail> (<url>)" per warning; exits 1 if there is any.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/subrequests/lint"
	"github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// offline resolves every base image to an empty image of the asked platform, with the PATH every image sets.
type offline struct{}

func (offline) ResolveImageConfig(_ context.Context, ref string, opt sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	p := ocispecs.Platform{OS: "linux", Architecture: "amd64"}
	if opt.ImageOpt != nil && opt.ImageOpt.Platform != nil {
		p = *opt.ImageOpt.Platform
	}
	img := ocispecs.Image{
		Platform: p,
		// One layer: an image without any is taken for scratch.
		RootFS: ocispecs.RootFS{Type: "layers", DiffIDs: []digest.Digest{digest.FromString(ref)}},
		Config: ocispecs.ImageConfig{Env: []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}},
	}
	dt, err := json.Marshal(img)
	return ref, "", dt, err
}

func lintFile(file string) (int, error) {
	dt, err := os.ReadFile(file)
	if err != nil {
		return 0, err
	}
	src := llb.NewSourceMap(nil, file, "Dockerfile", dt)
	src.Definition = &llb.Definition{} // no build context: the results only need the file's name and text
	res, err := dockerfile2llb.DockerfileLint(context.Background(), dt, dockerfile2llb.ConvertOpt{
		Config:       dockerui.Config{},
		SourceMap:    src,
		MetaResolver: offline{},
	})
	if err != nil {
		return 0, err
	}
	lineOf := func(w lint.Warning) int {
		if w.Location != nil && len(w.Location.Ranges) > 0 {
			return int(w.Location.Ranges[0].Start.Line)
		}
		return 0
	}
	sort.SliceStable(res.Warnings, func(i, j int) bool { return lineOf(res.Warnings[i]) < lineOf(res.Warnings[j]) })
	for _, w := range res.Warnings {
		fmt.Printf("%s:%d: %s: %s (%s)\n", file, lineOf(w), w.RuleName, w.Detail, w.URL)
	}
	if res.Error != nil {
		line := 0
		if len(res.Error.Location.Ranges) > 0 {
			line = int(res.Error.Location.Ranges[0].Start.Line)
		}
		fmt.Printf("%s:%d: error: %s\n", file, line, res.Error.Message)
		return len(res.Warnings) + 1, nil
	}
	return len(res.Warnings), nil
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: dockerfile-lint Dockerfile...")
		os.Exit(2)
	}
	found := 0
	for _, f := range os.Args[1:] {
		n, err := lintFile(f)
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", f, err)
			os.Exit(2)
		}
		found += n
	}
	if found > 0 {
		os.Exit(1)
	}
}
