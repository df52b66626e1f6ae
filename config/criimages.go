package config

import (
	"context"
	"fmt"
	"net/url"
	"runtime"

	"github.com/nodecred/nodecred/credentials"
	"github.com/nodecred/nodecred/internal/fielderr"
)

// CRIImagesSection is CRI's image service section in a version 3 or later
// config; a version 2 config keeps the same keys in criV2Section.
const (
	CRIImagesSection = "io.containerd.cri.v1.images"
	criV2Section     = "io.containerd.grpc.v1.cri"
)

// CRIImages holds the settings of CRI's image service that decide whether
// CRI pulls through the transfer service, and the deprecated registry
// settings that have a hosts.toml equivalent, read as containerd reads them.
type CRIImages struct {
	// V2 is set when the settings came from a version 2 config's
	// [plugins."io.containerd.grpc.v1.cri"] section, where the operator edits them.
	V2 bool
	// ConfigPath is registry.config_path; empty when unset.
	ConfigPath string
	// Mirrors is registry.mirrors: endpoints by host ("*" for every host).
	Mirrors map[string][]string
	// Configs is registry.configs by host, with registry.auths folded in
	// as containerd folds them.
	Configs map[string]RegistryConfig
	// MaxConcurrentDownloads is max_concurrent_downloads (default 3).
	MaxConcurrentDownloads int
	// UseLocalImagePull, DisableSnapshotAnnotations, DiscardUnpackedLayers
	// and ImagePullWithSyncFs are the keys of those names.
	UseLocalImagePull          bool
	DisableSnapshotAnnotations bool
	DiscardUnpackedLayers      bool
	ImagePullWithSyncFs        bool
	// Auths are the registry.auths keys, by URL, as written.
	Auths []string
	// Nodecred is set when the file (or one it imports) has nodecred's
	// section already.
	Nodecred bool
	// NodecredPaths are the path of each of its sources of type
	// dockerconfig, by index in sources.
	NodecredPaths map[int]string
}

// RegistryConfig is one registry.configs.<host> table.
type RegistryConfig struct {
	// Auth is the auth table; nil when absent.
	Auth *DeprecatedAuth
	// TLS is the tls table, which containerd 2.x no longer reads (1.x did,
	// without config_path); nil when absent.
	TLS *RegistryTLS
}

// RegistryTLS is one registry.configs.<host>.tls table, as containerd 1.7
// read it.
type RegistryTLS struct {
	CAFile             string
	CertFile           string
	KeyFile            string
	InsecureSkipVerify bool
}

// criImagesConfig decodes the keys of containerd's CRI ImageConfig that
// CRIImages holds, with containerd's defaults.
type criImagesConfig struct {
	DisableSnapshotAnnotations bool `toml:"disable_snapshot_annotations"`
	DiscardUnpackedLayers      bool `toml:"discard_unpacked_layers"`
	MaxConcurrentDownloads     int  `toml:"max_concurrent_downloads"`
	ImagePullWithSyncFs        bool `toml:"image_pull_with_sync_fs"`
	UseLocalImagePull          bool `toml:"use_local_image_pull"`
	Registry                   struct {
		ConfigPath string `toml:"config_path"`
		Mirrors    map[string]struct {
			Endpoints []string `toml:"endpoint"`
		} `toml:"mirrors"`
		Configs map[string]struct {
			Auth *criAuth `toml:"auth"`
			TLS  *struct {
				InsecureSkipVerify bool   `toml:"insecure_skip_verify"`
				CAFile             string `toml:"ca_file"`
				CertFile           string `toml:"cert_file"`
				KeyFile            string `toml:"key_file"`
			} `toml:"tls"`
		} `toml:"configs"`
		Auths map[string]criAuth `toml:"auths"`
	} `toml:"registry"`
}

type criAuth struct {
	Username      string `toml:"username"`
	Password      string `toml:"password"`
	Auth          string `toml:"auth"`
	IdentityToken string `toml:"identitytoken"`
}

func (a criAuth) deprecated() *DeprecatedAuth {
	return &DeprecatedAuth{
		Username:      a.Username,
		Password:      credentials.Secret(a.Password),
		Auth:          credentials.Secret(a.Auth),
		IdentityToken: credentials.Secret(a.IdentityToken),
	}
}

// LoadCRIImages reads CRI's image settings from containerd's config file at
// path as containerd does: imports merged, each file migrated to the current
// config version first (a version 2 file's CRI keys move to
// [plugins."io.containerd.cri.v1.images"]), then decoded over containerd's
// defaults.
func LoadCRIImages(ctx context.Context, path string) (CRIImages, error) {
	c, v2, err := loadMigrated(ctx, path)
	if err != nil {
		return CRIImages{}, err
	}
	dec := criImagesConfig{
		DisableSnapshotAnnotations: runtime.GOOS != "windows",
		MaxConcurrentDownloads:     3,
	}
	if _, err := c.Decode(ctx, CRIImagesSection, &dec); err != nil {
		return CRIImages{}, fmt.Errorf("%s: %w", path, fielderr.New(fmt.Sprintf("[plugins.%q]", CRIImagesSection), "%w", err))
	}
	out := CRIImages{
		V2:                         v2,
		NodecredPaths:              map[int]string{},
		ConfigPath:                 dec.Registry.ConfigPath,
		MaxConcurrentDownloads:     dec.MaxConcurrentDownloads,
		UseLocalImagePull:          dec.UseLocalImagePull,
		DisableSnapshotAnnotations: dec.DisableSnapshotAnnotations,
		DiscardUnpackedLayers:      dec.DiscardUnpackedLayers,
		ImagePullWithSyncFs:        dec.ImagePullWithSyncFs,
		Mirrors:                    map[string][]string{},
		Configs:                    map[string]RegistryConfig{},
	}
	for host, m := range dec.Registry.Mirrors {
		out.Mirrors[host] = m.Endpoints
	}
	if section, ok := c.Plugins[Section].(map[string]any); ok {
		out.Nodecred = true
		sources, _ := section["sources"].([]any)
		for i, src := range sources {
			m, _ := src.(map[string]any)
			if typ, _ := m["type"].(string); typ == "dockerconfig" {
				if path, ok := m["path"].(string); ok {
					out.NodecredPaths[i] = path
				}
			}
		}
	}
	for host, rc := range dec.Registry.Configs {
		var r RegistryConfig
		if rc.Auth != nil {
			r.Auth = rc.Auth.deprecated()
		}
		if rc.TLS != nil {
			r.TLS = &RegistryTLS{CAFile: rc.TLS.CAFile, CertFile: rc.TLS.CertFile, KeyFile: rc.TLS.KeyFile, InsecureSkipVerify: rc.TLS.InsecureSkipVerify}
		}
		out.Configs[host] = r
	}
	// As containerd's ValidateImageConfig: an auths key is a URL whose
	// host (the key itself when it has no scheme) names the configs entry
	// whose auth it replaces.
	for endpoint, a := range dec.Registry.Auths {
		u, err := url.Parse(endpoint)
		if err != nil {
			return CRIImages{}, fmt.Errorf("%s: %w", path, fielderr.New("registry.auths", "key %q is not a URL: %w", endpoint, err))
		}
		host := endpoint
		if u.Scheme != "" {
			host = u.Host
		}
		r := out.Configs[host]
		r.Auth = a.deprecated()
		out.Configs[host] = r
		out.Auths = append(out.Auths, endpoint)
	}
	return out, nil
}
