/*
   Copyright The nodecred Authors.

   Licensed under the Apache License, Version 2.0 (the "License");
   you may not use this file except in compliance with the License.
   You may obtain a copy of the License at

       http://www.apache.org/licenses/LICENSE-2.0

   Unless required by applicable law or agreed to in writing, software
   distributed under the License is distributed on an "AS IS" BASIS,
   WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
   See the License for the specific language governing permissions and
   limitations under the License.
*/

package harness

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Image is a generated image: layers of random bytes, a config for this
// machine's platform and an OCI manifest.
type Image struct {
	Manifest []byte
	Digest   digest.Digest
	blobs    map[digest.Digest][]byte
}

// NewImage generates an image of the given number of layers, each holding
// one file of layerSize random bytes.
func NewImage(layers, layerSize int) (*Image, error) {
	img := &Image{blobs: map[digest.Digest][]byte{}}
	var descs []ocispec.Descriptor
	var diffIDs []digest.Digest
	for i := range layers {
		tarball, gz, err := layer(fmt.Sprintf("file%d", i), layerSize)
		if err != nil {
			return nil, err
		}
		d := digest.FromBytes(gz)
		img.blobs[d] = gz
		diffIDs = append(diffIDs, digest.FromBytes(tarball))
		descs = append(descs, ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayerGzip, Digest: d, Size: int64(len(gz))})
	}
	cfg, err := json.Marshal(ocispec.Image{
		Platform: ocispec.Platform{OS: runtime.GOOS, Architecture: runtime.GOARCH},
		Config:   ocispec.ImageConfig{Entrypoint: []string{"/file0"}},
		RootFS:   ocispec.RootFS{Type: "layers", DiffIDs: diffIDs},
	})
	if err != nil {
		return nil, err
	}
	cd := digest.FromBytes(cfg)
	img.blobs[cd] = cfg
	m := ocispec.Manifest{
		MediaType: ocispec.MediaTypeImageManifest,
		Config:    ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: cd, Size: int64(len(cfg))},
		Layers:    descs,
	}
	m.SchemaVersion = 2
	if img.Manifest, err = json.Marshal(m); err != nil {
		return nil, err
	}
	img.Digest = digest.FromBytes(img.Manifest)
	return img, nil
}

func layer(name string, size int) (tarball, gz []byte, err error) {
	content := make([]byte, size)
	if _, err := rand.Read(content); err != nil {
		return nil, nil, err
	}
	var tb bytes.Buffer
	tw := tar.NewWriter(&tb)
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o755, Size: int64(size), Typeflag: tar.TypeReg}); err != nil {
		return nil, nil, err
	}
	if _, err := tw.Write(content); err != nil {
		return nil, nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, nil, err
	}
	var gb bytes.Buffer
	zw := gzip.NewWriter(&gb)
	if _, err := zw.Write(tb.Bytes()); err != nil {
		return nil, nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, nil, err
	}
	return tb.Bytes(), gb.Bytes(), nil
}

// Push uploads img to host/repo:tag over plain HTTP with basic auth, using
// the OCI distribution API.
func (img *Image) Push(host, repo, tag, user, password string) error {
	return img.PushTags(host, repo, []string{tag}, user, password)
}

// PushTags uploads img's blobs once and tags its manifest with each tag.
func (img *Image) PushTags(host, repo string, tags []string, user, password string) error {
	base := "http://" + host + "/v2/" + repo
	for d, blob := range img.blobs {
		resp, err := do(http.MethodPost, base+"/blobs/uploads/", nil, user, password, "")
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusAccepted {
			return fmt.Errorf("start upload to %s: %s", host, resp.Status)
		}
		loc, err := url.Parse(resp.Header.Get("Location"))
		if err != nil {
			return err
		}
		if !loc.IsAbs() {
			loc, _ = url.Parse("http://" + host + loc.String())
		}
		q := loc.Query()
		q.Set("digest", d.String())
		loc.RawQuery = q.Encode()
		resp, err = do(http.MethodPut, loc.String(), blob, user, password, "application/octet-stream")
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusCreated {
			return fmt.Errorf("upload blob to %s: %s", host, resp.Status)
		}
	}
	for _, tag := range tags {
		resp, err := do(http.MethodPut, base+"/manifests/"+tag, img.Manifest, user, password, ocispec.MediaTypeImageManifest)
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusCreated {
			return fmt.Errorf("push manifest to %s: %s", host, resp.Status)
		}
	}
	return nil
}

func do(method, u string, body []byte, user, password, contentType string) (*http.Response, error) {
	req, err := http.NewRequest(method, u, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.SetBasicAuth(user, password)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		// The error names the URL, which carries no credential.
		return nil, fmt.Errorf("%s %s: %w", method, strings.Split(u, "?")[0], err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp, nil
}
