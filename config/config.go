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

// Package config parses nodecred's section of containerd's config.toml,
// strictly: the plugin and the CLI read it through here alike.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strings"

	"github.com/containerd/containerd/v2/pkg/identifiers"
	"github.com/pelletier/go-toml/v2"

	"github.com/nodecred/nodecred/credentials/sourceconfig"
	"github.com/nodecred/nodecred/internal/fielderr"
)

// Section is the name of nodecred's section in containerd's config.
const Section = "io.containerd.credentials.v1.nodecred"

// Config is the [plugins."io.containerd.credentials.v1.nodecred"] section.
type Config struct {
	// Namespaces are the containerd namespaces that may use node
	// credentials; empty means all.
	Namespaces []string `toml:"namespaces"`
	// Push lends node credentials to pushes too.
	Push bool `toml:"push"`
	// RequireCRITransferPull makes containerd fail to start when CRI pulls
	// images without the transfer service (local pull mode), where node
	// credentials never reach CRI pulls: for operators who fail closed.
	RequireCRITransferPull bool `toml:"require_cri_transfer_pull"`
	// Sources are asked in order; the first that has a credential wins.
	Sources []sourceconfig.Config `toml:"sources"`
}

// Default is the section with its defaults, as `containerd config default`
// shows it.
func Default() map[string]any {
	return map[string]any{"namespaces": []string{}, "push": false, "require_cri_transfer_pull": false}
}

// Parse decodes the section, given with every key as decoded from TOML,
// strictly: containerd only warns about unknown keys and drops them, and a
// mistyped key in a credentials config (`pasword_file`) must stop the node
// instead, and so must a key the source's type does not take (`hosts` on a
// dockerconfig source). Errors name the key and, where it is safe, the
// value; an unknown key's value is not shown, since a misspelled password
// key would carry a password, and neither is a password's or an env
// value's. FuzzConfigSection holds this. Each error is a *fielderr.Error,
// so errdefs.IsInvalidArgument tells it from a runtime fault.
func Parse(raw map[string]any) (Config, error) {
	var cfg Config
	for _, k := range sortedKeys(raw) {
		switch k {
		case "namespaces", "push", "require_cri_transfer_pull", "sources":
		default:
			return Config{}, fielderr.New("", "unknown key %q (value not shown)", k)
		}
	}
	top := map[string]any{}
	for _, k := range []string{"namespaces", "push", "require_cri_transfer_pull"} {
		if v, ok := raw[k]; ok {
			top[k] = v
		}
	}
	if err := strictDecode(top, &cfg); err != nil {
		return Config{}, err
	}
	for _, ns := range cfg.Namespaces {
		if err := identifiers.Validate(ns); err != nil {
			return Config{}, fielderr.New("namespaces", "%q is not a valid containerd namespace", ns)
		}
	}
	if v, ok := raw["sources"]; ok {
		list, ok := v.([]any)
		if !ok {
			return Config{}, fielderr.New("sources", "want an array of tables ([[...sources]]), got %T", v)
		}
		for i, item := range list {
			field := fmt.Sprintf("sources[%d]", i)
			m, ok := item.(map[string]any)
			if !ok {
				return Config{}, fielderr.New(field, "want a table, got %T", item)
			}
			var sc sourceconfig.Config
			if err := strictDecode(m, &sc); err != nil {
				// "sources[0]: hosts: toml: ...", as documented.
				return Config{}, fielderr.New(field, "%w", err)
			}
			// By the keys written, so that an empty value (hosts = [])
			// on a type that does not take the key is refused too.
			if err := sourceconfig.CheckKeys(sc.Type, sortedKeys(m)); err != nil {
				return Config{}, fielderr.In(field, err)
			}
			cfg.Sources = append(cfg.Sources, sc)
		}
	}
	return cfg, nil
}

// strictDecode decodes m into out, refusing keys out does not have.
func strictDecode(m map[string]any, out any) error {
	b, err := toml.Marshal(m)
	if err != nil {
		return err
	}
	err = toml.NewDecoder(bytes.NewReader(b)).DisallowUnknownFields().Decode(out)
	var strict *toml.StrictMissingError
	if errors.As(err, &strict) && len(strict.Errors) > 0 {
		return fielderr.New("", "unknown key %q (value not shown)", strings.Join(strict.Errors[0].Key(), "."))
	}
	var decode *toml.DecodeError
	if errors.As(err, &decode) {
		// go-toml's message names the expected type and field, not the value.
		key := strings.Join(decode.Key(), ".")
		if key == "" {
			key = keyOfField(out, decode.Error())
		}
		return fielderr.New(key, "%w", decode)
	}
	return err
}

// structField finds the Go field in go-toml's "... struct field
// config.Config.Push of type bool".
var structField = regexp.MustCompile(`struct field [\w.]*\.(\w+) of type`)

// keyOfField returns the TOML key of the field of out that msg names. Older
// go-toml (containerd 2.1 to 2.3 pull one in) leaves DecodeError's key
// empty, so it is found from the message.
func keyOfField(out any, msg string) string {
	m := structField.FindStringSubmatch(msg)
	if m == nil {
		return "?"
	}
	t := reflect.TypeOf(out)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() == reflect.Struct {
		if f, ok := t.FieldByName(m[1]); ok {
			if tag, _, _ := strings.Cut(f.Tag.Get("toml"), ","); tag != "" {
				return tag
			}
		}
	}
	return m[1]
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
