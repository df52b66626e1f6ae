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

package credentials

import (
	"fmt"

	"github.com/nodecred/nodecred/internal/redact"
)

// Secret is a credential value that never prints itself: its String,
// Format, GoString and JSON forms are a placeholder, so a secret that slips
// into a log line or an error stays hidden.
type Secret string

const redacted = redact.Placeholder

// String returns a placeholder, never the secret.
func (Secret) String() string { return redacted }

// GoString returns a placeholder, never the secret.
func (Secret) GoString() string { return redacted }

// Format prints a placeholder for every verb, including %s, %v, %q and %x.
func (Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(redacted)) }

// MarshalJSON encodes a placeholder.
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// MarshalText encodes a placeholder.
func (Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// Reveal returns the secret itself, for code that hands it on: to the
// registry client, to a docker credential helper's caller, or into a file
// the operator asked for. Never to a log, an error or a metric.
func (s Secret) Reveal() string { return string(s) }
